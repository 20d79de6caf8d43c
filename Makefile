# Warta: two commands on a fresh machine.
#   make run   installs everything and starts Warta's whole stack under supervisord with the
#              sandbox channels (Ctrl-C stops)
#   make test  installs everything and runs every test
# `make install` is the product (include/warta, requirements.txt) plus the dev tooling
# (dev/warta_dev, requirements-dev.txt); `make install-runtime` the product only, as the
# Dockerfile installs it (an office server running `warta serve` under systemd).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.installed-runtime
# Lines pip freeze and uv pip compile print that a lock must not pin.
UNLOCKED := '^(-e |warta|pip==|setuptools==|uv==|wheel==)'

# Installs those of the Debian packages $(1) that are missing (root, or sudo, the first time).
define apt_install_missing
missing=$$(for p in $(1); do \
  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
if [ -n "$$missing" ]; then \
  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
  echo "installing:" $$missing; \
  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
fi
endef

.PHONY: install install-runtime run status test test-unit test-system test-distributed env lock bench clean browser-deps system-deps \
	distributed-deps bench-report bench-throughput bench-runtime bench-parking bench-four-channels

define venv_with_uv
@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
@$(VENV)/bin/python -m pip --version >/dev/null 2>&1 || $(VENV)/bin/python -m ensurepip >/dev/null
@$(VENV)/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
endef

$(STAMP): requirements.txt requirements-dev.txt constraints-dev.txt pyproject.toml dev/pyproject.toml
	$(venv_with_uv)
	$(VENV)/bin/uv pip install -q --python $(VENV)/bin/python -r requirements-dev.txt -c constraints-dev.txt
	$(VENV)/bin/uv pip install -q --python $(VENV)/bin/python --no-deps -e . -e dev
	@touch $(STAMP)

$(RUNTIME_STAMP): requirements.txt constraints.txt pyproject.toml
	$(venv_with_uv)
	$(VENV)/bin/uv pip install -q --python $(VENV)/bin/python -r requirements.txt -c constraints.txt
	$(VENV)/bin/uv pip install -q --python $(VENV)/bin/python --no-deps -e .
	@touch $(RUNTIME_STAMP)

install: $(STAMP)

install-runtime: $(RUNTIME_STAMP)

# `warta serve` (embedded PostgreSQL, Airflow's components, the outbox) plus the sandbox
# channels and dev Connections to them, each a supervisord program (restarted when it
# dies); data and logs under .dev/airflow. Ctrl-C or SIGTERM stops everything; a second
# `make run` says Warta already runs and fails.
run: install system-deps
	$(VENV)/bin/python -m warta_dev.devstack run

# Each component of the running `make run` stack: state, pid, uptime, restarts.
status: install
	@$(VENV)/bin/warta status

# Shell exports for the `warta` CLI against the `make run` stack: eval "$$(make -s env)"
env: install
	@$(VENV)/bin/warta env

# Two pytest sessions: the embedded stack's, then the production topology's (each starts
# its own Airflow; one at a time fits a 2-core machine).
test: install browser-deps system-deps distributed-deps
	$(VENV)/bin/python -m pytest -p no:cacheprovider -m "not distributed"
	$(MAKE) --no-print-directory test-distributed

test-unit: install system-deps
	$(VENV)/bin/python -m pytest -p no:cacheprovider -m "not system and not wordpress"

test-system: install browser-deps
	$(VENV)/bin/python -m pytest -p no:cacheprovider -m system

# The production topology without Docker: PostgreSQL, Redis, moto's S3, Celery workers.
test-distributed: install distributed-deps
	$(VENV)/bin/python -m pytest -p no:cacheprovider -m distributed

bench: install
	$(VENV)/bin/python bench/approval_latency.py

# The embedded runtime: idle memory (PSS), clean clone → healthy, a burst of 500 intakes.
bench-runtime: install system-deps
	$(VENV)/bin/python bench/idle_memory.py
	$(VENV)/bin/python bench/healthy_start.py
	$(VENV)/bin/python bench/intake_burst.py

# The desk's browser tests drive Debian's chromium (Playwright's own browser download is
# not used). Installs it only when missing; needs root (or sudo) the first time.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

# The monthly report: WeasyPrint draws PDFs with Pango, HarfBuzz and fontconfig and
# Debian's DejaVu fonts; the tests read PDFs back with pdftotext (poppler-utils).
# Installs only the packages that are missing; needs root (or sudo) the first time.
REPORT_DEBS := poppler-utils fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
	libharfbuzz-subset0 libfontconfig1
system-deps:
	@$(call apt_install_missing,$(REPORT_DEBS))

# The production topology's Debian packages: PostgreSQL and Redis (run on loopback by
# warta_dev.topology) and docker-compose (validates docker-compose.yaml; no Docker engine needed).
DISTRIBUTED_DEBS := postgresql redis-server docker-compose
distributed-deps:
	@$(call apt_install_missing,$(DISTRIBUTED_DEBS))

# Items per minute from approval to archived, embedded and distributed, fakes at 200 ms.
bench-throughput: install distributed-deps
	$(VENV)/bin/python bench/throughput.py

# A thousand items parked at a human step; decision latency with them parked; one
# four-channel item from approval to archive (N=... for a smaller run).
bench-parking: install
	$(VENV)/bin/python bench/parking.py --n $(or $(N),1000)

# Monthly report of a busy month: seeds 100,000 items, compiles and renders them.
# One approved item to all four channels, approval → archived, a few times on the idle stack.
bench-four-channels: install
	$(VENV)/bin/python bench/four_channels.py --items $(or $(N),3)

bench-report: install system-deps
	$(VENV)/bin/python bench/report.py

# The two full locks: constraints-dev.txt, every package of a working install of
# requirements-dev.txt (which includes requirements.txt); constraints.txt, what
# requirements.txt alone resolves to within it (the same versions, fewer packages).
lock: install
	(echo "# Full lock of the dev and test install: requirements-dev.txt (Python 3.11)."; \
	 echo "# Regenerate with 'make lock' after changing requirements.txt or requirements-dev.txt."; \
	 $(VENV)/bin/uv pip freeze --python $(VENV)/bin/python | grep -vE $(UNLOCKED)) > constraints-dev.txt.new
	mv constraints-dev.txt.new constraints-dev.txt
	(echo "# Full lock of the runtime: requirements.txt (Python 3.11), versions as in constraints-dev.txt."; \
	 echo "# Regenerate with 'make lock' after changing requirements.txt or requirements-dev.txt."; \
	 $(VENV)/bin/uv pip compile -q --python $(VENV)/bin/python --no-header --no-annotate requirements.txt \
	   -c constraints-dev.txt | grep -vE $(UNLOCKED)) > constraints.txt.new
	mv constraints.txt.new constraints.txt
	@touch $(STAMP)

clean:
	rm -rf $(VENV) .dev test-artifacts
