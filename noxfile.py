"""The support matrix: Python 3.10-3.13 x Django 4.2 / 5.2, and 6.0 on Python >= 3.12.

`make matrix` runs all of it, `make matrix-edges` the oldest and newest combination
(what CI runs besides `make test`).
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

# Django 4.2 supports Python up to 3.12 and 6.0 needs >= 3.12, hence no 3.13 x 4.2 and no
# 6.0 below 3.12 (https://docs.djangoproject.com/en/stable/faq/install/).
COMBINATIONS = [
    ("3.10", "4.2"),
    ("3.10", "5.2"),
    ("3.11", "4.2"),
    ("3.11", "5.2"),
    ("3.12", "4.2"),
    ("3.12", "5.2"),
    ("3.12", "6.0"),
    ("3.13", "5.2"),
    ("3.13", "6.0"),
]


@nox.session
@nox.parametrize(
    "python,django",
    COMBINATIONS,
    ids=[f"py{python}-django{django}" for python, django in COMBINATIONS],
)
def tests(session: nox.Session, django: str) -> None:
    """Install the package with its test extra on one Django series and run pytest."""
    session.install("-e", ".[test]", f"Django~={django}.0")
    # The same passes as `make pytest`: everything on SQLite, the core and surface tests
    # again under ATOMIC_REQUESTS, then the tests marked `postgres` on PostgreSQL (exit code
    # 5 means that pass selected no test), then the Oscar shop on both databases.
    session.run("pytest", *session.posargs)
    session.run(
        "pytest",
        "tests/core",
        "tests/surfaces",
        *session.posargs,
        env={"TALON_TEST_ATOMIC_REQUESTS": "1"},
    )
    session.run(
        "pytest",
        "-m",
        "postgres",
        *session.posargs,
        env={"TALON_TEST_DB": "postgres"},
        success_codes=[0, 5],
    )
    # tests/oscar: the django-oscar shop (the test extra installs django-oscar 4.2, which
    # supports every combination above), under its own settings, on SQLite and PostgreSQL.
    oscar = {"DJANGO_SETTINGS_MODULE": "tests.oscar.settings"}
    session.run("pytest", "tests/oscar", *session.posargs, env=oscar)
    session.run(
        "pytest", "tests/oscar", *session.posargs, env={**oscar, "TALON_TEST_DB": "postgres"}
    )
