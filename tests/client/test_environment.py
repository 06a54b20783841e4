"""The proxy/CA environment is read once per client, not on every call (issue 13).

``requests`` with ``trust_env`` scans ``os.environ`` (proxies, ``NO_PROXY``, CA bundle) and
looks for ``~/.netrc`` on every request; the client's own session reads the environment once,
with the same rules, and passes the result to each request. These tests count the look-ups
and check that what reaches the adapter is what ``requests`` would have used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import requests.sessions
import requests.utils

from django_talon.client import TalonClient

from .support import API_KEY, BASE_URL, Answer, RecordingAdapter


class KwargsAdapter(RecordingAdapter):
    """Also records the keyword arguments requests hands the adapter (proxies, verify)."""

    def __init__(self) -> None:
        super().__init__(Answer(200, {"effects": []}))
        self.kwargs: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.kwargs.append(kwargs)
        return super().send(request, **kwargs)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            monkeypatch.delenv(name)


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts the client's environment reads and requests' own per-call look-ups."""
    counts = {"client": 0, "requests": 0, "netrc": 0}
    environ_proxies = requests.utils.get_environ_proxies
    netrc_auth = requests.sessions.get_netrc_auth

    def counted(key: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[key] += 1
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(requests.utils, "get_environ_proxies", counted("client", environ_proxies))
    monkeypatch.setattr(
        requests.sessions, "get_environ_proxies", counted("requests", environ_proxies)
    )
    monkeypatch.setattr(requests.sessions, "get_netrc_auth", counted("netrc", netrc_auth))
    yield counts


def own_client(adapter: KwargsAdapter) -> TalonClient:
    """A client with the session it made itself, its transport adapter swapped for ``adapter``."""
    client = TalonClient(BASE_URL, API_KEY)
    client.session.mount("https://", adapter)
    return client


def test_the_environment_is_read_once_per_client_not_per_call(
    lookups: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    adapter = KwargsAdapter()
    client = own_client(adapter)
    for _ in range(5):
        client.update_customer_session_v2("cart-1", {"profileId": "c7"})
    assert lookups == {"client": 1, "requests": 0, "netrc": 0}
    assert client.session.trust_env is False
    assert [kw["proxies"].get("https") for kw in adapter.kwargs] == [
        "http://proxy.internal:3128"
    ] * 5


def test_no_proxy_for_the_base_url_host_means_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,.test")
    adapter = KwargsAdapter()
    own_client(adapter).get_customer_session("cart-1")
    assert "https" not in adapter.kwargs[0]["proxies"]


def test_ca_bundle_from_the_environment_as_requests_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    adapter = KwargsAdapter()
    own_client(adapter).get_customer_session("cart-1")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/curl.pem")
    own_client(adapter).get_customer_session("cart-1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/requests.pem")
    own_client(adapter).get_customer_session("cart-1")
    assert [kw["verify"] for kw in adapter.kwargs] == [
        True,
        "/etc/ssl/curl.pem",
        "/etc/ssl/requests.pem",
    ]


def test_the_session_s_own_verify_and_proxies_apply_when_the_environment_sets_none() -> None:
    adapter = KwargsAdapter()
    client = own_client(adapter)
    client.session.verify = "/etc/ssl/shop.pem"
    client.session.proxies = {"https": "http://shop-proxy:8080"}
    client.get_customer_session("cart-1")
    assert adapter.kwargs[0]["verify"] == "/etc/ssl/shop.pem"
    assert adapter.kwargs[0]["proxies"]["https"] == "http://shop-proxy:8080"


def test_a_changed_environment_is_picked_up_by_refresh_or_a_new_client(
    lookups: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = KwargsAdapter()
    client = own_client(adapter)
    monkeypatch.setenv("HTTPS_PROXY", "http://new-proxy:3128")
    client.get_customer_session("cart-1")
    client.with_options(timeout=2).get_customer_session("cart-1")
    refreshed = client.with_options(refresh_environment=True)
    refreshed.get_customer_session("cart-1")
    client.get_customer_session("cart-1")  # the original keeps what it read
    own_client(adapter).get_customer_session("cart-1")
    assert [kw["proxies"].get("https") for kw in adapter.kwargs] == [
        None,
        None,
        "http://new-proxy:3128",
        None,
        "http://new-proxy:3128",
    ]
    assert refreshed.session is client.session  # still one pool
    assert lookups["client"] == 3 and lookups["requests"] == 0


def test_a_callers_session_is_used_as_it_is(
    lookups: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller chose that session's ``trust_env``: requests reads the environment per call
    for it, as before, and the client neither reads it nor changes the session."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    adapter = KwargsAdapter()
    session = requests.Session()
    session.mount("https://", adapter)
    client = TalonClient(BASE_URL, API_KEY, session=session)
    client.get_customer_session("cart-1")
    client.with_options(refresh_environment=True).get_customer_session("cart-1")
    assert session.trust_env is True
    assert lookups["client"] == 0 and lookups["requests"] == 2
    assert adapter.kwargs[0]["proxies"]["https"] == "http://proxy.internal:3128"
