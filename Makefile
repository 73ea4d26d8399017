# Two entry points that work on a fresh clone with only Python 3.11 on the machine:
#   make demo   the broker with the demo cast at http://127.0.0.1:5000/login   (ARGS="--port 5100")
#   make test   the whole test suite on embedded SQLite + Redis              (PYTEST_ARGS="-k lockout")
#   make bench  the benchmarks of issue 5, results in bench/results/         (BENCH_ARGS="--runs 1")
# Each creates .venv and installs the project into it on first use (again when setup.cfg changes).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS        ?=
PYTEST_ARGS ?=
BENCH_ARGS  ?=
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test bench install clean

$(STAMP): setup.cfg pyproject.toml
	@test -n "$(PYTHON)" || { echo "make: needs python3.11 on PATH"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "make: $(PYTHON) is older than 3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/broker demo $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $(BENCH_STAMP)

# Gunicorn on half the CPUs, the load generator on the other half; DATABASE_URL / REDIS_URL are
# honoured (the bench drops that database's tables and flushes that Redis database).
bench: $(BENCH_STAMP)
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
