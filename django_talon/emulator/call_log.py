"""The emulator's call log: what it keeps of each Integration API call, and the entry
``GET /_emulator/requests`` (and ``EmulatorApp.call_log``) makes of it when read.

Kept apart from the app (issue 13): an entry is built only when the log is read, so each call
costs one tuple; most calls' entries are never read.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django_talon.emulator.util import load_json


class LoggedCall(NamedTuple):
    """One call as the log keeps it (``EmulatorApp._record``); read as :func:`log_entry`."""

    id: int
    method: str
    path: str
    query: dict[str, str]
    lists: dict[str, list[str]]
    status: int | None
    operation: str | None
    #: the body received (None: the operation found it was not JSON, logged as null)
    raw_body: bytes | None
    elapsed: float  # seconds


def logged_body(raw: bytes) -> Any:
    """A logged request body as the call log shows it: JSON, else text, None when empty."""
    try:
        return load_json(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


def log_entry(logged: LoggedCall) -> dict[str, Any]:
    """A call log entry as ``GET /_emulator/requests`` and :meth:`EmulatorApp.call_log` give it."""
    return {
        "id": logged.id,
        "method": logged.method,
        "path": logged.path,
        "query": dict(logged.query),
        # every value of each parameter, in order: ``query`` keeps one per name, and a
        # repeated key (``subledgerId=a&subledgerId=b``) would lose the others
        "query_lists": logged.lists,
        "status": logged.status,
        "operation": logged.operation,
        "body": None if logged.raw_body is None else logged_body(logged.raw_body),
        "duration_ms": round(logged.elapsed * 1000, 3),
    }
