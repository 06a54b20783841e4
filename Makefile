# The two commands a new user needs: `make demo` and `make test`.
# Everything else here is what those two are made of.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.django-talon-installed
PYTEST_ARGS ?=

.PHONY: help install test lint format typecheck docs pytest demo matrix matrix-edges clean

help:
	@echo "make demo        run the example shop against the local Talon.One emulator"
	@echo "make test        lint, type-check, build the docs and run the whole test suite"
	@echo "make matrix      run the tests on every supported Python x Django combination (nox)"
	@echo "make matrix-edges  the oldest and the newest combination only"

# Re-installs when pyproject.toml changes; a fresh clone needs only Python >= 3.10.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "django-talon needs Python >= 3.10")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

# ruff (incl. complexity <= 15) and the import-linter layer contracts in pyproject.toml.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir .site

# Three passes: the suite on SQLite; the core and surface tests again with ATOMIC_REQUESTS
# (TALON_TEST_ATOMIC_REQUESTS=1, as django-oscar shops run); then the tests marked `postgres`
# (real Celery workers on Redis and RabbitMQ, database locks) on PostgreSQL. Exit code 5 =
# no test selected.
# Coverage of django_talon ([tool.coverage.*] in pyproject.toml) is measured over both passes
# into one .coverage file; the combined figure is printed last and must reach COVERAGE_FLOOR.
# `coverage run`, not pytest-cov's --cov: django-talon's pytest plugin imports the package
# before pytest-cov starts, so --cov would miss every module-level line of it.
COVERAGE_FLOOR ?= 90
# tests/oscar is a real django-oscar shop with settings of its own (Oscar's apps,
# ATOMIC_REQUESTS): two more passes, on SQLite and on PostgreSQL (tests/conftest.py keeps
# the other passes from collecting it).
OSCAR := DJANGO_SETTINGS_MODULE=tests.oscar.settings
# The first pass runs the emulator with DJANGO_TALON_EMULATOR_JSON=check: every answer and
# request body of the suite goes through orjson and json and must come out the same.
pytest: install
	DJANGO_TALON_EMULATOR_JSON=check $(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	TALON_TEST_ATOMIC_REQUESTS=1 $(BIN)/coverage run --append -m pytest tests/core tests/surfaces $(PYTEST_ARGS)
	TALON_TEST_DB=postgres $(BIN)/coverage run --append -m pytest -m postgres $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(OSCAR) $(BIN)/coverage run --append -m pytest tests/oscar $(PYTEST_ARGS)
	TALON_TEST_DB=postgres $(OSCAR) $(BIN)/coverage run --append -m pytest tests/oscar $(PYTEST_ARGS)
	$(BIN)/coverage report --fail-under=$(COVERAGE_FLOOR)

test: lint typecheck docs pytest

demo: install
	$(BIN)/python manage.py demo $(DEMO_ARGS)

# pyenv users: every installed interpreter is made visible to nox.
matrix: install
	PYENV_VERSION="$$(ls $$HOME/.pyenv/versions 2>/dev/null | grep -E '^3\.1[0-3]\.' | sort -t. -k2,2nr | tr '\n' ':' | sed 's/:$$//')" \
		$(BIN)/nox -s tests

matrix-edges: install
	PYENV_VERSION="$$(ls $$HOME/.pyenv/versions 2>/dev/null | grep -E '^3\.1[0-3]\.' | sort -t. -k2,2nr | tr '\n' ':' | sed 's/:$$//')" \
		$(BIN)/nox -s 'tests(py3.10-django4.2)' 'tests(py3.13-django6.0)'

clean:
	rm -rf $(VENV) .nox .site .pytest_cache .mypy_cache .ruff_cache
