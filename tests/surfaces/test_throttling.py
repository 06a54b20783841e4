"""The code attempt limiter (shared by the form views and the REST API)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.test import RequestFactory

from django_talon.throttling import CodeAttemptLimiter, client_ident, client_ip, parse_rate
from tests.resources import require_redis

ROOT = Path(__file__).resolve().parents[2]


def _request(ip: str = "10.0.0.1", user: Any = None) -> Any:
    request = RequestFactory().post("/", REMOTE_ADDR=ip)
    request.user = user or AnonymousUser()
    return request


def test_parse_rate() -> None:
    assert parse_rate("10/minute") == (10, 60)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("100/hour") == (100, 3600)
    assert parse_rate(None) is None and parse_rate("") is None
    with pytest.raises(ValueError, match="CODE_ATTEMPT_RATE"):
        parse_rate("ten per minute")


def test_budget_per_client_and_wait_time() -> None:
    limiter = CodeAttemptLimiter("2/day")
    assert limiter.allow(_request()) and limiter.allow(_request())
    assert not limiter.allow(_request())
    # remembered for a day, at most one slot (a twelfth) more
    assert 86400 - 5 <= limiter.wait_seconds <= 86400 * 13 / 12
    assert limiter.allow(_request("10.0.0.2"))  # another visitor


def test_signed_in_users_are_counted_by_user_not_ip(django_user_model: Any, db: Any) -> None:
    user = django_user_model.objects.create_user("ann")
    assert client_ident(_request(user=user)) == f"user:{user.pk}"
    assert client_ident(_request("1.2.3.4")) == "ip:1.2.3.4"


def test_disabled_limit_allows_everything(settings: Any) -> None:
    settings.TALON = {**settings.TALON, "CODE_ATTEMPT_RATE": None}
    limiter = CodeAttemptLimiter()
    assert all(limiter.allow(_request()) for _ in range(50))


# --------------------------------------------------------------------------- sliding window


class Clock:
    """A time source the tests move by hand (no sleeping)."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _attempts(
    limiter: CodeAttemptLimiter, clock: Clock, times: list[float], **kw: Any
) -> list[float]:
    """The times (of ``times``) at which an attempt was allowed."""
    allowed = []
    for t in times:
        clock.now = t
        if limiter.allow(_request(**kw)):
            allowed.append(t)
    return allowed


def test_no_burst_at_a_minute_boundary() -> None:
    # The old fixed window let 20 guesses through in 1.9 s around 1:00 at 10/minute.
    clock = Clock()
    limiter = CodeAttemptLimiter("10/minute", clock=clock)
    boundary = 60.0 * 20_000
    times = [boundary - 0.95 + i * 0.1 for i in range(20)]  # 20 attempts within 1.9 s
    assert len(_attempts(limiter, clock, times)) == 10


def test_at_most_the_budget_in_any_period() -> None:
    # One attempt every 0.7 s for ten minutes: count the allowed ones in every 60 s span.
    clock = Clock()
    limiter = CodeAttemptLimiter("10/minute", clock=clock)
    start = 60.0 * 30_000 + 13.3
    times = [start + i * 0.7 for i in range(860)]
    allowed = _attempts(limiter, clock, times)
    for t in allowed:
        assert sum(1 for u in allowed if t <= u < t + 60) <= 10
    # ... and the budget is really given: about 10 per minute, not far fewer.
    assert len(allowed) >= 9 * 10


def test_refused_attempts_do_not_count_and_wait_is_exact() -> None:
    clock = Clock(60.0 * 40_000 + 1.0)
    limiter = CodeAttemptLimiter("3/minute", clock=clock)
    assert all(limiter.allow(_request()) for _ in range(3))
    for _ in range(5):  # refused ones are not counted against later attempts
        assert not limiter.allow(_request())
    wait = limiter.wait_seconds
    assert 60 <= wait <= 65  # remembered for a period, at most one slot (5 s) more
    clock.now += wait - 0.01
    assert not limiter.allow(_request())
    clock.now += 0.02
    assert limiter.allow(_request())
    assert limiter.allow(_request()) and limiter.allow(_request())
    assert not limiter.allow(_request())


def test_rate_validation() -> None:
    with pytest.raises(ValueError, match="CODE_ATTEMPT_RATE_PER_IP"):
        CodeAttemptLimiter(ip_rate="0/minute")
    with pytest.raises(ValueError, match="CODE_ATTEMPT_RATE"):
        parse_rate("-1/minute")


# --------------------------------------------------------------------------- per IP


def test_per_ip_budget_across_accounts(django_user_model: Any, db: Any, settings: Any) -> None:
    settings.TALON = {**settings.TALON, "CODE_ATTEMPT_RATE_PER_IP": "6/hour"}
    clock = Clock()
    users = [django_user_model.objects.create_user(f"u{i}") for i in range(5)]
    limiter = CodeAttemptLimiter("10/minute", clock=clock)
    allowed = 0
    for user in users:  # five accounts on one IP share its budget
        for _ in range(3):
            allowed += limiter.allow(_request("203.0.113.7", user))
            clock.now += 1
    assert allowed == 6
    assert limiter.wait_seconds > 3000
    # another IP has its own, and the per-user budget still applies there
    assert limiter.allow(_request("203.0.113.8", users[0]))


def test_per_ip_budget_is_off_by_default(django_user_model: Any, db: Any) -> None:
    clock = Clock()
    limiter = CodeAttemptLimiter("2/hour", clock=clock)
    users = [django_user_model.objects.create_user(f"v{i}") for i in range(4)]
    assert all(limiter.allow(_request("203.0.113.9", u)) for u in users for _ in range(2))


def test_refused_by_ip_gives_the_user_place_back(django_user_model: Any, db: Any) -> None:
    clock = Clock()
    limiter = CodeAttemptLimiter("2/hour", ip_rate="1/hour", clock=clock)
    ann = django_user_model.objects.create_user("ann")
    assert limiter.allow(_request("198.51.100.1", ann))
    assert not limiter.allow(_request("198.51.100.1", ann))  # IP budget used up
    # the refused attempt did not use Ann's own budget: one place left from another IP
    assert limiter.allow(_request("198.51.100.2", ann))
    assert not limiter.allow(_request("198.51.100.3", ann))


def test_ipv6_counts_per_64_network() -> None:
    clock = Clock()
    limiter = CodeAttemptLimiter("2/hour", clock=clock)
    assert limiter.allow(_request("2001:db8:1:2::1"))
    assert limiter.allow(_request("2001:db8:1:2:ffff::9"))  # same /64: same visitor
    assert not limiter.allow(_request("2001:db8:1:2::abcd"))
    assert limiter.allow(_request("2001:db8:1:3::1"))
    assert client_ident(_request("::ffff:192.0.2.1")) == "ip:192.0.2.1"


# --------------------------------------------------------------------------- client IP


def test_forwarded_for_is_ignored_without_trusted_proxies() -> None:
    request = _request("10.0.0.1")
    request.META["HTTP_X_FORWARDED_FOR"] = "1.1.1.1"
    assert client_ip(request) == "10.0.0.1"


def test_trusted_proxy_count_takes_the_address_the_outer_proxy_saw(settings: Any) -> None:
    settings.TALON = {**settings.TALON, "TRUSTED_PROXY_COUNT": 2}
    request = _request("10.0.0.2")  # the inner proxy
    # spoofed by the client, client as seen by the outer proxy, outer proxy
    request.META["HTTP_X_FORWARDED_FOR"] = "6.6.6.6, 198.51.100.20, 10.0.0.1"
    assert client_ip(request) == "198.51.100.20"
    request.META["HTTP_X_FORWARDED_FOR"] = "junk, not-an-ip, 10.0.0.1"
    assert client_ip(request) == "10.0.0.2"  # unusable header: the socket address
    del request.META["HTTP_X_FORWARDED_FOR"]
    assert client_ip(request) == "10.0.0.2"


def real_ip_header(request: Any) -> str:
    return str(request.META.get("HTTP_X_REAL_IP", ""))


def test_client_ip_function(settings: Any) -> None:
    settings.TALON = {
        **settings.TALON,
        "CLIENT_IP_FUNCTION": "tests.surfaces.test_throttling.real_ip_header",
    }
    request = _request("10.0.0.3")
    request.META["HTTP_X_REAL_IP"] = "192.0.2.77"
    assert client_ip(request) == "192.0.2.77"
    assert client_ident(request) == "ip:192.0.2.77"
    request.META["HTTP_X_REAL_IP"] = "not an address\n"
    ident = client_ident(request)
    assert ident.startswith("ip:h") and " " not in ident and "\n" not in ident


# --------------------------------------------------------------------------- shared Redis

REDIS_ALIAS = "talon_throttle"
FIXED_NOW = 60.0 * 50_000 + 30.0  # every attempt at one instant: all in one slot
CHILD = """
import sys, time, django
django.setup()
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django_talon.throttling import CodeAttemptLimiter
start, count = float(sys.argv[1]), int(sys.argv[2])
while time.time() < start:
    pass
allowed = 0
for _ in range(count):
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.200")
    request.user = AnonymousUser()
    allowed += CodeAttemptLimiter(clock=lambda: FIXED_NOW).allow(request)
print(allowed)
""".replace("FIXED_NOW", repr(FIXED_NOW))


@pytest.fixture
def redis_cache(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """A Redis cache alias (unique key prefix) for TALON here and in child processes."""
    url = require_redis()
    prefix = f"talon-throttle-{uuid.uuid4().hex}"
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
             "KEY_PREFIX": prefix}  # fmt: skip
    talon = {"CACHE_ALIAS": REDIS_ALIAS, "CODE_ATTEMPT_RATE": "25/minute",
             "CODE_ATTEMPT_RATE_PER_IP": "40/minute"}  # fmt: skip
    settings.CACHES = {**settings.CACHES, REDIS_ALIAS: cache}
    settings.TALON = {**settings.TALON, **talon}
    (tmp_path / "throttle_redis_settings.py").write_text(
        "from tests.settings import *  # noqa\n"
        "from django.conf import global_settings\n"
        f"CACHES = {{**global_settings.CACHES, {REDIS_ALIAS!r}: {cache!r}}}\n"
        f"TALON = {{**TALON, **{talon!r}}}\n"
    )
    yield tmp_path
    caches[REDIS_ALIAS].clear()


def test_parallel_attempts_on_redis_never_overrun_the_budget(redis_cache: Path) -> None:
    """Threads here and two other processes guess at once from one IP: exactly 25 pass."""
    start = time.time() + 1.5  # the children are up by then
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "throttle_redis_settings",
        "PYTHONPATH": os.pathsep.join([str(redis_cache), str(ROOT)]),
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(start), "30"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    allowed: list[int] = []

    def guess() -> None:
        while time.time() < start:
            time.sleep(0.001)
        limiter = CodeAttemptLimiter(clock=lambda: FIXED_NOW)
        allowed.append(sum(limiter.allow(_request("192.0.2.200")) for _ in range(15)))

    threads = [threading.Thread(target=guess) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    from_children = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        from_children.append(int(out.strip()))
    # 120 attempts in parallel against one Redis: the budget, not one more (nor fewer)
    assert sum(allowed) + sum(from_children) == 25
    cache = caches[REDIS_ALIAS]
    keys = [k for k in cache._cache.get_client().keys("*") if b"code_attempts" in k]  # type: ignore[attr-defined]
    assert keys  # the counters really live in Redis


# --------------------------------------------------------------------------- checks


def _check_ids(**talon: Any) -> list[str]:
    from django.test import override_settings

    from django_talon.checks import check_settings

    good = {"BASE_URL": "https://acme.talon.one", "API_KEY": "k"}
    shared = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:6379/9"}}  # fmt: skip
    with override_settings(TALON={**good, **talon}, CACHES=shared):
        return [m.id for m in check_settings()]


@pytest.mark.parametrize(
    "talon",
    [
        {"CODE_ATTEMPT_RATE": "ten per minute"},
        {"CODE_ATTEMPT_RATE": "0/minute"},
        {"CODE_ATTEMPT_RATE_PER_IP": "30/fortnight"},
        {"TRUSTED_PROXY_COUNT": -1},
    ],
)
def test_e010_unusable_throttle_settings(talon: dict[str, Any]) -> None:
    assert _check_ids(**talon) == ["django_talon.E010"]


def test_e011_unusable_client_ip_function() -> None:
    assert _check_ids(CLIENT_IP_FUNCTION="nope.missing") == ["django_talon.E011"]
    assert _check_ids(CLIENT_IP_FUNCTION="django_talon.throttling.SLOTS") == ["django_talon.E011"]


def test_good_throttle_settings_are_clean() -> None:
    assert (
        _check_ids(
            CODE_ATTEMPT_RATE=None,
            CODE_ATTEMPT_RATE_PER_IP="30/minute",
            TRUSTED_PROXY_COUNT=2,
            CLIENT_IP_FUNCTION="tests.surfaces.test_throttling.real_ip_header",
        )
        == []
    )
