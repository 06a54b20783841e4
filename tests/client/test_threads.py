"""One client shared by threads: every call succeeds and connections are pooled."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from django_talon.client import RetryPolicy, TalonClient
from tests.client.support import API_KEY, JSONHandler, serve_http


class _KeepAlive(JSONHandler):
    protocol_version = "HTTP/1.1"  # keep connections open so the client can reuse them
    peers: set[tuple[str, int]] = set()
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            self.peers.add(self.client_address)
        session_id = self.path.rsplit("/", 1)[-1]
        self.send_json(200, {"customerSession": {"integrationId": session_id}, "effects": []})


@pytest.fixture
def server_url() -> Iterator[str]:
    _KeepAlive.peers = set()
    with serve_http(_KeepAlive) as url:
        yield url


def test_shared_client_across_threads(server_url: str) -> None:
    client = TalonClient(server_url, API_KEY, timeout=(2.0, 5.0), retry=RetryPolicy.none())
    ids = [f"cart-{i}" for i in range(60)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(client.get_customer_session, ids))
    client.close()
    assert [r.customer_session.integration_id for r in results if r.customer_session] == ids
    # Connections come from the shared pool: far fewer than one per call.
    assert 1 <= len(_KeepAlive.peers) <= 16
