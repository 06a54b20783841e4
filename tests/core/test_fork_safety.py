"""A process that called Talon.One and then forks (gunicorn ``preload_app``, a Celery
prefork parent) must not hand its keep-alive sockets to the children.

Found by an outside review: two gunicorn workers shared the parent's ``requests.Session``,
read each other's answers (another customer's session) and garbled a request body into a
dead letter. The children run real session updates against the emulator over HTTP.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest

from django_talon import resilience

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or sys.platform == "darwin", reason="needs fork() (POSIX, not macOS)"
)

UPDATES = 60


def _child(write_fd: int, name: str) -> None:
    """In the child: its own client, and only its own sessions' answers."""
    report: dict[str, Any] = {"same_client": False, "foreign": 0, "errors": []}
    try:
        client = resilience.get_client()
        report["same_client"] = id(client) == int(os.environ["PARENT_CLIENT_ID"])
        for index in range(UPDATES):
            session_id = f"fork-{name}-{index % 5}"
            answer = client.update_customer_session_v2(
                session_id,
                {"cartItems": [{"sku": f"SKU-{name}", "price": 5, "quantity": 1}]},
                response_content=["customerSession"],
            )
            got = answer.customer_session.integration_id if answer.customer_session else None
            if got != session_id:
                report["foreign"] += 1
    except Exception as exc:  # reported to the parent, which fails the test with it
        report["errors"].append(f"{type(exc).__name__}: {exc}")
    finally:
        os.write(write_fd, json.dumps(report).encode())
        os._exit(0)


def test_forked_children_get_clients_of_their_own(shop: Any) -> None:
    parent = resilience.get_client()
    # the parent has used its keep-alive connection before forking
    parent.update_customer_session_v2("fork-parent", {"cartItems": []})
    os.environ["PARENT_CLIENT_ID"] = str(id(parent))
    children: list[tuple[int, int]] = []
    try:
        for name in ("a", "b"):
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child, which exits
                os.close(read_fd)
                _child(write_fd, name)
            os.close(write_fd)
            children.append((pid, read_fd))
        reports = []
        for pid, read_fd in children:
            chunks = []
            while chunk := os.read(read_fd, 65536):
                chunks.append(chunk)
            os.close(read_fd)
            os.waitpid(pid, 0)
            reports.append(json.loads(b"".join(chunks)))
    finally:
        del os.environ["PARENT_CLIENT_ID"]
    for report in reports:
        assert report["errors"] == []
        assert report["same_client"] is False, "the child reused the parent's client"
        assert report["foreign"] == 0, "a child read another session's answer"
    # the parent's own client still works after its children went their way
    assert resilience.get_client() is parent
    parent.update_customer_session_v2("fork-parent", {"cartItems": []})
