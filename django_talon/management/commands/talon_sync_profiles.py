"""``manage.py talon_sync_profiles``: send all (or recently changed) users to Talon.One in bulk.

A thin shell over :func:`django_talon.services.bulk_sync.sync_profiles`: parses options,
draws a progress bar and prints a summary. Interrupted runs resume after the last
delivered batch (see docs/commands.md); ``--restart`` starts over.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from django_talon.moments import for_shop
from django_talon.services import bulk_sync

RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

#: What stops a bulk sync the same way on every run (no API key, a bad adapter path, an
#: adapter's bad value, no ``PRODUCT_MODEL``): "run again to resume" would be wrong advice.
CONFIGURATION_ERRORS = (ValueError, ImproperlyConfigured, ImportError)


def batch_count(value: str) -> int:
    """The argparse ``type`` of ``--max-batches``: a whole number of at least 1 (0 or -1 ran
    nothing and said "Stopped after user pk None; run again to continue."). argparse names
    the option in the error, worded as ``talon_outbox``'s ``positive_int`` (which cannot be
    imported here: ``talon_outbox`` imports this module)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {value!r}")
    return number


def add_resume_arguments(parser: CommandParser, *, first: str) -> None:
    """The options every resumable bulk command shares (profiles, catalog): one wording,
    one place. ``first`` names what a restart begins with (``user``, ``product``)."""
    parser.add_argument(
        "--restart",
        action="store_true",
        help=f"Ignore the checkpoint of an interrupted run and start from the first {first}.",
    )
    parser.add_argument(
        "--checkpoint-file",
        default=None,
        help="Keep the resume checkpoint in this JSON file (default: the Django cache).",
    )
    parser.add_argument(
        "--max-batches",
        type=batch_count,
        default=None,
        help="Stop after N batches, N >= 1 (the checkpoint lets the next run continue).",
    )


def file_checkpoint(path: str | None) -> bulk_sync.FileCheckpoint | None:
    """The ``--checkpoint-file`` checkpoint (None when not given), its path refused here,
    before anything is sent: found only at the first save, a directory cost a delivered
    batch and read like an outage to resume from."""
    if path is None:
        return None
    try:
        return bulk_sync.FileCheckpoint(path)
    except bulk_sync.CheckpointPathError as exc:
        raise CommandError(f"--checkpoint-file: {exc}") from exc


def stopped(what: str, exc: Exception) -> CommandError:
    """The error a bulk command ends with when its sync raised ``exc`` (``what``: "bulk
    sync", "catalog sync"). "Run again to resume" only where running again can help (an
    outage, a refused batch, a lost database connection): a configuration error or a
    checkpoint that cannot be written stops the next run the same way."""
    from django_talon.resilience import describe

    if isinstance(exc, bulk_sync.CheckpointNotSavedError):
        return CommandError(
            f"{what} stopped: {exc}. Fix what keeps the --checkpoint-file from being written "
            "(the path, its permissions, a full disk) and run again: it resumes from the last "
            "checkpoint it could save (or starts over); a batch sent twice changes nothing in "
            "Talon.One."
        )
    if isinstance(exc, CONFIGURATION_ERRORS):
        return CommandError(f"{what} stopped: {describe(exc)}")
    return CommandError(
        f"{what} stopped: {describe(exc)}. Run the command again to resume after the last "
        "delivered batch."
    )


def check_batch_size(size: int | None) -> None:
    """Refuse a ``--batch-size`` outside what one Talon.One bulk call takes."""
    if size is not None and not 1 <= size <= bulk_sync.MAX_BATCH_SIZE:
        raise CommandError(
            f"--batch-size must be between 1 and {bulk_sync.MAX_BATCH_SIZE}, got {size}"
        )


def parse_since(value: str) -> datetime:
    """An ISO date or datetime (``2026-01-31``, ``2026-01-31T12:00``) or ``7d``/``12h``/``30m``.

    Without an offset it is the current time zone's wall clock (``TIME_ZONE``); the result
    follows ``USE_TZ`` (aware, or naive local time: SQLite refuses an aware value then).
    Every refusal is a ``ValueError`` naming ``--since``: ``99999999d`` (before the year 1)
    was an ``OverflowError`` traceback, ``2026-13-01`` a bare "month must be in 1..12"."""
    value = value.strip()
    try:
        relative = RELATIVE.match(value)
        if relative:
            amount, unit = relative.groups()
            return timezone.now() - timedelta(**{UNITS[unit]: int(amount)})
        moment = parse_datetime(value) or _day(value)
        if moment is None:
            raise ValueError("expected YYYY-MM-DD[THH:MM[:SS]] or 7d/12h/30m")
        moment = for_shop(moment)
        if timezone.is_aware(moment):
            moment.astimezone(dt_timezone.utc)  # what the database is sent: year 1 in UTC+1
        return moment
    except OverflowError as exc:
        raise ValueError(f"--since {value!r}: out of the range of dates (years 1-9999)") from exc
    except ValueError as exc:
        raise ValueError(f"--since {value!r}: {exc}") from exc


def _day(value: str) -> datetime | None:
    day = parse_date(value)
    return None if day is None else datetime.combine(day, time.min)


class ProgressBar:
    """A one-line bar on a terminal, one line per batch otherwise (logs, CI)."""

    def __init__(self, stream: Any, *, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.tty = bool(getattr(stream, "isatty", lambda: False)())

    def __call__(self, p: bulk_sync.BulkSyncProgress) -> None:
        total = max(p.total, p.processed, 1)
        filled = int(self.width * p.processed / total)
        bar = "#" * filled + "-" * (self.width - filled)
        line = (
            f"[{bar}] {p.processed}/{p.total} users, {p.sent} sent, "
            f"{p.unchanged} unchanged, batch {p.batches}"
        )
        self._write("\r" + line if self.tty else line + "\n")

    def close(self) -> None:
        if self.tty:
            self._write("\n")

    def _write(self, text: str) -> None:
        # Django's OutputWrapper appends "\n" unless told otherwise: that would break the
        # one-line bar on a terminal.
        try:
            self.stream.write(text, ending="")
        except TypeError:
            self.stream.write(text)
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Send users to Talon.One with PUT /v2/customer_profiles in batches of up to 1000 "
        "(resumable; unchanged profiles are skipped)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help=f"Profiles per API call, 1-{bulk_sync.MAX_BATCH_SIZE} "
            "(default: TALON['SYNC_BATCH_SIZE']).",
        )
        parser.add_argument(
            "--since",
            default=None,
            help="Only users changed since: YYYY-MM-DD[THH:MM], or relative 7d / 12h / 30m.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Build the payloads and count; call nothing, write nothing.",
        )
        parser.add_argument("--force", action="store_true", help="Send unchanged profiles too.")
        add_resume_arguments(parser, first="user")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            since = parse_since(options["since"]) if options["since"] else None
            warning = bulk_sync.since_warning() if since is not None else ""
        except ValueError as exc:  # a bad --since, or a user model with no date field
            raise CommandError(str(exc)) from exc
        if warning:
            self.stderr.write(self.style.WARNING(f"--since: {warning}"))
        check_batch_size(options["batch_size"])
        checkpoint = file_checkpoint(options["checkpoint_file"]) or bulk_sync.CacheCheckpoint()
        show_progress = int(options["verbosity"]) >= 1
        bar = ProgressBar(self.stdout)
        try:
            result = bulk_sync.sync_profiles(
                batch_size=options["batch_size"],
                since=since,
                dry_run=options["dry_run"],
                force=options["force"],
                resume=not options["restart"],
                checkpoint=checkpoint,
                progress=bar if show_progress else None,
                max_batches=options["max_batches"],
                selection=options["since"],
            )
        except Exception as exc:
            if show_progress:
                bar.close()
            raise stopped("bulk sync", exc) from exc
        if show_progress:
            bar.close()
        self._summary(result)

    def _summary(self, result: bulk_sync.BulkSyncResult) -> None:
        if result.resumed_from is not None:
            self.stdout.write(f"Resumed after user pk {result.resumed_from}.")
        prefix = "Dry run: would send" if result.dry_run else "Sent"
        self.stdout.write(
            f"{prefix} {result.sent} profile(s) in {result.batches} batch(es) "
            f"({result.api_calls} API call(s)); {result.unchanged} unchanged."
        )
        if result.erased:
            self.stdout.write(f"Skipped {result.erased} erased customer(s) (GDPR).")
        if result.dry_run and result.sample:
            self.stdout.write(f"First payload item: {result.sample[0]}")
        if result.completed:
            self.stdout.write(self.style.SUCCESS("Bulk profile sync complete."))
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Stopped after user pk {result.last_pk}; run again to continue."
                )
            )
