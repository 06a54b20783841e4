"""The code attempt limiter (shared by the form views and the REST API)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from django_talon.throttling import CodeAttemptLimiter, client_ident, parse_rate


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
    limiter = CodeAttemptLimiter("2/day")  # a day-long window: no boundary mid-test
    assert limiter.allow(_request()) and limiter.allow(_request())
    assert not limiter.allow(_request())
    assert 1 <= limiter.wait_seconds <= 86400
    assert limiter.allow(_request("10.0.0.2"))  # another visitor


def test_signed_in_users_are_counted_by_user_not_ip(django_user_model: Any, db: Any) -> None:
    user = django_user_model.objects.create_user("ann")
    assert client_ident(_request(user=user)) == f"user:{user.pk}"
    assert client_ident(_request("1.2.3.4")) == "ip:1.2.3.4"


def test_disabled_limit_allows_everything(settings: Any) -> None:
    settings.TALON = {**settings.TALON, "CODE_ATTEMPT_RATE": None}
    limiter = CodeAttemptLimiter()
    assert all(limiter.allow(_request()) for _ in range(50))
