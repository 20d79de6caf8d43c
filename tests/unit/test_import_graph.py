"""The product package's import graph: no circles, no imports of another module's private
names, nothing from the dev tooling (warta_dev) and nothing outside the runtime lock.

Every import counts, also those inside functions: a lazy import hides a circle from the
interpreter, not from the reader.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRODUCT = REPO / "include" / "warta"
RUNTIME_LOCK = REPO / "constraints.txt"
# Circles and private imports in these modules belong to the `boundary` (Airflow hooks,
# channels, alerts) and `web` (one web package) branches of issue 13; the strict tests
# below cover everything else.
OTHER_BRANCHES = re.compile(r"^warta\.(channels(\..+)?|social|content|alerts|airflow\.notifiers|service"
                            r"|airflow\.(rest_api|desk|desk_api))$")


@dataclass
class ImportGraph:
    # module -> the product modules it imports
    edges: dict[str, set[str]] = field(default_factory=dict)
    # (importing module, imported module, private name)
    private: list[tuple[str, str, str]] = field(default_factory=list)
    # module -> top-level names of everything it imports from outside the package
    external: dict[str, set[str]] = field(default_factory=dict)


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        modules[".".join(parts)] = (path, is_package)
    return modules


def build_graph(root: Path = PRODUCT) -> ImportGraph:
    modules = _modules(root)
    graph = ImportGraph()

    def owner(name: str) -> str | None:
        """The product module ``name`` is or lives in (a package for its attributes)."""
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    for module, (path, is_package) in modules.items():
        edges, external = graph.edges.setdefault(module, set()), graph.external.setdefault(module, set())
        package = module.split(".") if is_package else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = owner(alias.name)
                    edges.add(target) if target else external.add(alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[:len(package) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module
                source_module = owner(source)
                if source_module is None:
                    external.add(source.split(".")[0])
                    continue
                for alias in node.names:
                    if f"{source}.{alias.name}" in modules:  # a submodule: from warta import config
                        edges.add(f"{source}.{alias.name}")
                        continue
                    edges.add(source_module)
                    if alias.name.startswith("_") and not alias.name.startswith("__") and source_module != module:
                        graph.private.append((module, source_module, alias.name))
        edges.discard(module)
    return graph


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return build_graph()


def test_the_graph_builder_sees_circles_and_private_imports_in_functions(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("def later():\n    from .sub import c\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "c.py").write_text("import pkg.a\nfrom ..b import _hidden\nimport yaml.constructor\n")
    (package / "d.py").write_text("from pkg import a\n")
    graph = build_graph(package)
    assert cycles(graph.edges) == [["pkg.a", "pkg.b", "pkg.sub.c"]]
    assert graph.private == [("pkg.sub.c", "pkg.b", "_hidden")]
    assert graph.edges["pkg.d"] == {"pkg.a"} and graph.external["pkg.sub.c"] == {"yaml"}


def test_no_import_circles_outside_the_boundary_and_web_modules(graph):
    ours = [cycle for cycle in cycles(graph.edges) if not all(OTHER_BRANCHES.match(m) for m in cycle)]
    assert ours == []


def test_no_imports_of_private_names_outside_the_boundary_and_web_modules(graph):
    ours = [entry for entry in graph.private if not OTHER_BRANCHES.match(entry[0])]
    assert ours == []


# The integrator removes this marker once the boundary and web branches are merged.
def test_no_import_circles_and_no_private_imports_at_all(graph):
    assert cycles(graph.edges) == []
    assert graph.private == []


def test_the_product_imports_nothing_from_the_dev_tooling(graph):
    dev = {module: names & {"warta_dev", "tests"} for module, names in graph.external.items()}
    assert {module: names for module, names in dev.items() if names} == {}


def test_the_product_imports_only_what_the_runtime_lock_installs(graph):
    locked = {re.sub(r"[-_.]+", "-", line.split("==")[0]).lower()
              for line in RUNTIME_LOCK.read_text().splitlines() if "==" in line and not line.startswith("#")}
    distributions = importlib.metadata.packages_distributions()
    unlocked = {}
    for module, names in graph.external.items():
        for name in names - set(sys.stdlib_module_names) - {"__future__"}:
            providers = {re.sub(r"[-_.]+", "-", d).lower() for d in distributions.get(name, [])}
            if not providers & locked:
                unlocked.setdefault(name, set()).add(module)
    assert unlocked == {}
