# backfill-portal — the two commands a newcomer needs: `make run` and `make test`.
#
# The virtualenv lives in .venv and is (re)installed only when pyproject.toml or constraints.txt
# changed since the last install (the stamp file .venv/.installed), so re-runs start at once.

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
DEMO_PASSWORD ?= demo-pass-2018
PYTEST_ARGS ?=
# The suite runs in this many pytest-xdist processes (0: all in one process). Each has its own test database, Redis
# database and temporary files (tests/isolation.py). --dist load: schemathesis gives each API operation's case the
# same node id, and the grouping modes (loadscope, loadgroup) key work by node id, so they would run one of them.
# One hash seed for both workers: xdist refuses to run when they collect parameters (from a set) in another order.
PYTEST_WORKERS ?= 2

.PHONY: run test lint venv clean-venv

# Create the venv with the interpreter the project pins (pyproject: >=3.11,<3.12).
$(VPY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else \
		"backfill-portal needs Python 3.11; %s is %d.%d (run: make PYTHON=python3.11 ...)" \
		% (sys.executable, *sys.version_info[:2]))'
	$(PYTHON) -m venv $(VENV)

# Install the project with its test extra; constraints.txt pins every transitive package too.
# The project itself installs as metadata only (pyproject: packages = []): the code runs from this tree.
$(STAMP): $(VPY) pyproject.toml constraints.txt
	$(VPY) -m pip install --quiet --disable-pip-version-check -c constraints.txt ".[test]"
	@rm -rf build *.egg-info
	@touch $@

venv: $(STAMP)

# The demo: embedded SQLite + filesystem broker in var/, demo logins, runserver + Celery worker/beat + the national
# platform simulator on NATIONAL_PLATFORM_URL (default http://127.0.0.1:8900).
run: export DEMO_MODE := 1
run: export DJANGO_DEBUG := 1
run: export DEMO_PASSWORD := $(DEMO_PASSWORD)
run: export PORT := $(PORT)
run: $(STAMP)
	$(VPY) manage.py migrate --noinput
	$(VPY) manage.py createcachetable
	$(VPY) manage.py load_authorities
	$(VPY) manage.py seed_demo
	$(VPY) scripts/run_dev.py

test: $(STAMP)
	PYTHONHASHSEED=$${PYTHONHASHSEED:-0} $(VPY) -m pytest -n $(PYTEST_WORKERS) --dist load $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean-venv:
	rm -rf $(VENV)
