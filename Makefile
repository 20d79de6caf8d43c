# Warta: two commands on a fresh machine.
#   make run   installs everything and starts Airflow standalone with Warta (Ctrl-C stops)
#   make test  installs everything and runs every test
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

.PHONY: install run test test-unit test-system env lock bench clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python -m pip --version >/dev/null 2>&1 || $(VENV)/bin/python -m ensurepip >/dev/null
	@$(VENV)/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install -q --python $(VENV)/bin/python -r requirements.txt -c constraints.txt
	$(VENV)/bin/uv pip install -q --python $(VENV)/bin/python --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/python -m warta.devstack run

# Shell exports for the `warta` CLI against the `make run` stack: eval "$$(make -s env)"
env: install
	@$(VENV)/bin/python -m warta.devstack env

test: install
	$(VENV)/bin/python -m pytest -p no:cacheprovider

test-unit: install
	$(VENV)/bin/python -m pytest -p no:cacheprovider -m "not system"

test-system: install
	$(VENV)/bin/python -m pytest -p no:cacheprovider -m system

bench: install
	$(VENV)/bin/python bench/approval_latency.py

# Re-resolve requirements.txt into the full lock (constraints.txt).
lock: install
	(echo "# Full lock: every package of a working install of requirements.txt (Python 3.11)."; \
	 echo "# Regenerate with 'make lock' after changing requirements.txt."; \
	 $(VENV)/bin/uv pip freeze --python $(VENV)/bin/python | grep -vE '^(-e |warta|pip==|setuptools==|uv==|wheel==)') > constraints.txt

clean:
	rm -rf $(VENV) .dev test-artifacts
