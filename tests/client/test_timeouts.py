"""Timeouts against real sockets: one that accepts and never answers, one that refuses."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from django_talon.client import (
    RetryPolicy,
    TalonClient,
    TalonConnectionError,
    TalonTimeoutError,
    TalonValidationError,
)
from tests.client.support import API_KEY, FakeClock


class SilentServer:
    """Accepts TCP connections, reads nothing back, never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:  # accept timeout (poll for stop) or closed socket
                continue
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def test_read_timeout_raises_timeout_error(silent: SilentServer) -> None:
    client = TalonClient(
        f"http://127.0.0.1:{silent.port}", API_KEY, timeout=(1.0, 0.2), retry=RetryPolicy.none()
    )
    with pytest.raises(TalonTimeoutError) as info:
        client.get_customer_session("s")
    assert isinstance(info.value, TalonConnectionError)
    assert info.value.path == "/v2/customer_sessions/s" and info.value.method == "GET"
    assert API_KEY not in str(info.value)
    client.close()


def test_timeouts_of_safe_operations_are_retried(silent: SilentServer) -> None:
    clock = FakeClock()
    retry = RetryPolicy(max_attempts=2, sleep=clock.sleep, random=clock.random)
    client = TalonClient(f"http://127.0.0.1:{silent.port}", API_KEY, timeout=0.15, retry=retry)
    with pytest.raises(TalonTimeoutError):
        client.get_customer_session("s")
    assert len(clock.sleeps) == 1
    client.close()


def test_refused_connection_raises_connection_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there any more
    client = TalonClient(f"http://127.0.0.1:{port}", API_KEY, retry=RetryPolicy.none())
    with pytest.raises(TalonConnectionError) as info:
        client.get_customer_session("s")
    assert not isinstance(info.value, TalonTimeoutError)
    assert API_KEY not in str(info.value) and API_KEY not in repr(info.value)


def test_timeout_is_normalised_and_validated() -> None:
    assert TalonClient("http://x", API_KEY, timeout=2).timeout == (2.0, 2.0)
    assert TalonClient("http://x", API_KEY).timeout == (3.05, 10.0)
    for bad in (0, -1, (1.0, 0)):
        with pytest.raises(TalonValidationError):
            TalonClient("http://x", API_KEY, timeout=bad)
