"""Where the test suite finds resources that live outside the repository.

A test that needs one calls the matching ``require_*`` function: without the resource the
test is skipped with a reason that says what is missing and how to provide it. Under
``TALON_STRICT_TESTS=1`` (CI) the conftest turns every such skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = Path(os.environ.get("TALON_SPEC_DIR", REPO_ROOT.parent / "shared" / "spec"))

STRICT = os.environ.get("TALON_STRICT_TESTS", "") not in ("", "0", "false", "no")


def require_spec() -> Path:
    """Return the folder with the official OpenAPI documents, or skip."""
    if not (SPEC_DIR / "openapi.yaml").is_file():
        pytest.skip(
            f"official OpenAPI documents not found in {SPEC_DIR} "
            "(set TALON_SPEC_DIR to the folder holding openapi.yaml)"
        )
    return SPEC_DIR


def _tcp_reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port (a cheap liveness probe)."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


PG_HOST = os.environ.get("TALON_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TALON_TEST_PG_PORT", "5432"))
REDIS_URL = os.environ.get("TALON_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RABBITMQ_URL = os.environ.get("TALON_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def require_postgres() -> None:
    """Skip unless this run uses PostgreSQL (``TALON_TEST_DB=postgres``) and it is reachable.

    ``make test`` runs the tests marked ``postgres`` in a second pass with
    ``TALON_TEST_DB=postgres``; a plain ``pytest`` run deselects them (see conftest.py).
    """
    if os.environ.get("TALON_TEST_DB") != "postgres":
        pytest.skip("needs PostgreSQL: run with TALON_TEST_DB=postgres (make test does)")
    if not _tcp_reachable(PG_HOST, PG_PORT):
        pytest.skip(
            f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT} (set TALON_TEST_PG_HOST/PORT)"
        )


def _url_host_port(url: str, default_port: int) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def require_redis() -> str:
    """Return the Redis URL the Celery tests use as broker, or skip."""
    host, port = _url_host_port(REDIS_URL, 6379)
    if not _tcp_reachable(host, port):
        pytest.skip(f"Redis not reachable at {host}:{port} (set TALON_TEST_REDIS_URL)")
    return REDIS_URL


def require_rabbitmq() -> str:
    """Return the AMQP URL the Celery tests use as broker, or skip."""
    host, port = _url_host_port(RABBITMQ_URL, 5672)
    if not _tcp_reachable(host, port):
        pytest.skip(f"RabbitMQ not reachable at {host}:{port} (set TALON_TEST_RABBITMQ_URL)")
    return RABBITMQ_URL


CHROMIUM = Path(os.environ.get("TALON_CHROMIUM", "/usr/bin/chromium"))


def require_chromium() -> Path:
    """Return Debian's Chromium for the browser tests, or skip (browsers are never downloaded;
    ``.ci/run`` installs the ``chromium`` package when it is missing)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(
            f"Chromium not found at {CHROMIUM} (apt-get install chromium, "
            "or set TALON_CHROMIUM to its path)"
        )
    return CHROMIUM
