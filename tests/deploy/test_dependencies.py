"""The two dependency sets and their locks: requirements.txt (what production runs, locked
in constraints.txt, the only set the Dockerfile installs) and requirements-dev.txt (dev and
test tooling on top, locked in constraints-dev.txt)."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
# Installed with every environment, never pinned by a lock (as `make lock` filters them).
UNLOCKED = {"pip", "setuptools", "wheel", "uv"}


def _requirements(name: str) -> list[Requirement]:
    """The requirements a file names itself (not those it includes with -r)."""
    lines = (line.split("#", 1)[0].strip() for line in (REPO / name).read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def _lock(name: str) -> dict[str, str]:
    pins = {}
    for line in (REPO / name).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            package, version = line.split("==")
            pins[canonicalize_name(package)] = version.strip()
    return pins


def _pinned(requirement: Requirement) -> str:
    [specifier] = requirement.specifier
    assert specifier.operator == "==", f"{requirement} is not an exact pin"
    return specifier.version


def test_every_direct_dependency_is_an_exact_pin_its_lock_holds():
    for requirements, lock in (("requirements.txt", "constraints.txt"), ("requirements-dev.txt", "constraints-dev.txt")):
        pins = _lock(lock)
        for requirement in _requirements(requirements):
            assert pins.get(canonicalize_name(requirement.name)) == _pinned(requirement), (requirements, requirement)


def test_the_dev_set_includes_the_runtime_set_and_its_lock_agrees_with_the_runtime_lock():
    assert "-r requirements.txt" in (REPO / "requirements-dev.txt").read_text().splitlines()
    runtime, dev = _lock("constraints.txt"), _lock("constraints-dev.txt")
    assert {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version} == {}
    runtime_names = {canonicalize_name(r.name) for r in _requirements("requirements.txt")}
    for requirement in _requirements("requirements-dev.txt"):
        name = canonicalize_name(requirement.name)
        assert name not in runtime_names, f"{name} is in both requirement files"


def test_the_runtime_lock_holds_what_the_runtime_requirements_need_and_nothing_else():
    """Walks the installed packages' own metadata from requirements.txt: every package the
    product needs at run time (with the extras asked for) is pinned in constraints.txt, and
    nothing else is (no test tool rides along into the image)."""
    runtime = _lock("constraints.txt")
    missing, seen = set(), set()
    pending = [(canonicalize_name(r.name), frozenset(r.extras)) for r in _requirements("requirements.txt")]
    while pending:
        name, extras = pending.pop()
        if (name, extras) in seen or name in UNLOCKED:
            continue
        seen.add((name, extras))
        if name not in runtime:
            missing.add(name)
            continue
        distribution = importlib.metadata.distribution(name)
        assert distribution.version == runtime[name], f"installed {name} {distribution.version} is not the lock's"
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or any(requirement.marker.evaluate({"extra": extra})
                                                 for extra in {"", *extras}):
                pending.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    assert missing == set()
    assert set(runtime) - {name for name, _ in seen} == set()


def test_the_image_installs_the_runtime_set_only():
    joined = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    instructions = "\n".join(line for line in joined.splitlines() if not line.lstrip().startswith("#"))
    assert "requirements-dev" not in instructions and "constraints-dev" not in instructions
    assert not re.search(r"^COPY .*\bdev/", instructions, re.M), "the dev tooling is copied into the image"
    assert re.search(r"^COPY .*\binclude/ /opt/warta/include/", instructions, re.M)
    # The product package is everything the image installs from include/.
    assert [p.name for p in (REPO / "include").iterdir() if (p / "__init__.py").exists()] == ["warta"]
