"""Run test code on another database connection, as another process would."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, list[BaseException]]:
    """Start ``target`` on its own thread, hence its own database connection (closed after);
    returns the thread and the list its exception lands in, for the test to assert on."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # reported to the test, which asserts on it
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors
