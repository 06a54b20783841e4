"""Argument types and output helpers shared by the ``talon_*`` management commands.

Why a module of its own: the commands took numbers at face value (``retry
99999999999999999999`` was an ``OverflowError`` traceback, ``list --limit <huge>`` a
database "datatype mismatch", ``talon_reconcile list --limit 0`` said there was nothing),
and ``talon_outbox list | head -1`` ended in a ``BrokenPipeError`` traceback. One bound and
one pipe rule for every command keeps their answers alike.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import CommandError

#: The largest count (``--limit``) a command takes: far beyond any table, and small enough
#: that the SQL ``LIMIT`` (and the relay's ``limit * 10`` look-ahead) stays a 64-bit integer.
MAX_COUNT = 1_000_000_000
#: The largest primary key a database column holds (a signed 64-bit ``BigAutoField``).
MAX_ID = 2**63 - 1
#: TCP ports; 0 asks the system for a free one.
MAX_PORT = 65535


def _whole(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def positive_int(value: str) -> int:
    """An argparse ``type`` for a count option: a whole number from 1 to :data:`MAX_COUNT`
    (``--limit 0`` listed nothing and said there was nothing; ``relay --limit -1`` was a
    traceback, a huge one a database error). argparse names the option in the error."""
    number = _whole(value)
    if number is None or number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {value!r}")
    if number > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_COUNT:,}, got {value!r}")
    return number


def record_id(value: str) -> int:
    """An argparse ``type`` for a row id: 1 to :data:`MAX_ID` (a bigger one cannot exist,
    and was an ``OverflowError`` traceback in the query)."""
    number = _whole(value)
    if number is None or not 1 <= number <= MAX_ID:
        raise argparse.ArgumentTypeError(
            f"not an id (a whole number from 1 to {MAX_ID}): {value!r}"
        )
    return number


def port_number(value: str) -> int:
    """An argparse ``type`` for ``--port``: 0 to 65535 (``-1`` and ``99999`` were an
    ``OverflowError`` traceback from the socket)."""
    number = _whole(value)
    if number is None or not 0 <= number <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be a port from 0 to {MAX_PORT}, got {value!r}")
    return number


@contextmanager
def stop_quietly_on_broken_pipe(stdout: Any) -> Iterator[None]:
    """Let ``manage.py talon_outbox list | head -1`` end without a traceback.

    When the reader closes the pipe, the rest of the output is dropped and the command ends
    normally (exit status 0: the reader asked for no more, nothing failed). The real
    standard output is pointed at ``/dev/null`` so the interpreter's own flush at exit does
    not print "Exception ignored ... BrokenPipeError" either.
    """
    try:
        yield
        stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test's StringIO)
        pass


def refuse_unknown_ids(
    ids: list[int], states: dict[int, str], *, wanted: str, noun: str, other: str, after: str
) -> None:
    """Refuse ids that are no row (``noun``) or whose state is not ``wanted`` (``other``
    names those) before a command acts on any: ``retry 999999`` or ``recheck 12345`` said
    "0 done" and succeeded, so a typo looked like a run. ``after`` ends the message."""
    missing = [i for i in ids if i not in states]
    unwanted = [f"{i} ({states[i]})" for i in ids if i in states and states[i] != wanted]
    problems = []
    if missing:
        problems.append(f"no {noun} with id " + ", ".join(map(str, missing)))
    if unwanted:
        problems.append(f"{other}: " + ", ".join(unwanted))
    if problems:
        raise CommandError("; ".join(problems) + f" ({after})")
