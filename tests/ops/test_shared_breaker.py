"""The circuit breaker and the kill switch are shared by every process using one Redis cache
(docs/outbox.md): a second Python process sees what this one decided, and the other way round.

test_failures.py checks the breaker inside one process; this runs a real second process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches

from django_talon import resilience
from tests.resources import require_redis

ROOT = Path(__file__).resolve().parents[2]
ALIAS = "talon_shared"


@pytest.fixture
def shared_cache(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """A Redis cache alias (unique key prefix) for TALON here and in a settings module the
    child process loads."""
    url = require_redis()
    prefix = f"talon-test-{uuid.uuid4().hex}"
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
             "KEY_PREFIX": prefix}  # fmt: skip
    settings.CACHES = {**settings.CACHES, ALIAS: cache}
    settings.TALON = {**settings.TALON, "CACHE_ALIAS": ALIAS, "BREAKER_THRESHOLD": 2,
                      "BREAKER_COOLDOWN": 300}  # fmt: skip
    (tmp_path / "shared_cache_settings.py").write_text(
        "from tests.settings import *  # noqa\n"
        "from django.conf import global_settings\n"
        f"CACHES = {{**global_settings.CACHES, {ALIAS!r}: {cache!r}}}\n"
        f"TALON = {{**TALON, 'CACHE_ALIAS': {ALIAS!r}, 'BREAKER_THRESHOLD': 2,"
        " 'BREAKER_COOLDOWN': 300}\n"
    )
    yield tmp_path
    caches[ALIAS].clear()


def other_process(settings_dir: Path, code: str) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shared_cache_settings",
        "PYTHONPATH": os.pathsep.join([str(settings_dir), str(ROOT)]),
    }
    script = "import django; django.setup()\nfrom django_talon import resilience\n" + code
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_breaker_opened_here_is_open_in_another_process(shared_cache: Path) -> None:
    show = "print(resilience.breaker.state(), resilience.can_call())"
    assert other_process(shared_cache, show) == "closed True"

    resilience.breaker.record_failure()
    resilience.breaker.record_failure()  # BREAKER_THRESHOLD
    assert resilience.breaker.state() == "open"
    assert other_process(shared_cache, show) == "open False"

    # A success recorded by the other process (its trial call) closes it here too.
    other_process(shared_cache, "resilience.breaker.record_success()")
    assert resilience.breaker.state() == "closed" and resilience.can_call()


def test_kill_switch_set_in_another_process_stops_calls_here(shared_cache: Path) -> None:
    assert resilience.can_call()
    other_process(shared_cache, "resilience.set_kill_switch(True)")
    assert not resilience.is_enabled() and not resilience.can_call()
    other_process(shared_cache, "resilience.set_kill_switch(False)")
    assert resilience.is_enabled()
