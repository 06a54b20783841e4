"""``manage.py talon_erase``: record and deliver GDPR erasures, and audit them.

Why a command: erasure requests often arrive by e-mail or from a support tool, not from a
user deleting their own account. ``talon_erase --user 42`` (or ``--integration-id``) does
exactly what the ``user deleted`` signal does: an audit row, the local purge at once, and
``DELETE /v1/customer_data/{id}`` through the outbox until Talon.One confirms.
``--list`` shows the audit trail; ``--retry`` re-drives unconfirmed requests now.
"""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from django_talon.client.validation import MAX_INTEGRATION_ID_LENGTH
from django_talon.management.arguments import positive_int, stop_quietly_on_broken_pipe


class Command(BaseCommand):
    help = (
        "Erase a customer's data in Talon.One (and django-talon's local copy), or audit erasures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        who = parser.add_mutually_exclusive_group()
        who.add_argument("--user", help="Primary key of the shop user to erase.")
        who.add_argument("--integration-id", help="Talon.One integration id to erase.")
        who.add_argument(
            "--list", action="store_true", help="List erasure requests (newest first)."
        )
        who.add_argument(
            "--retry",
            action="store_true",
            help="Deliver every unconfirmed erasure now (the outbox relay retries them anyway).",
        )
        parser.add_argument(
            "--requested-by",
            default=None,
            help="Opaque audit reference, e.g. 'ticket:1234' (default: 'command:<os user>').",
        )
        parser.add_argument(
            "--pending", action="store_true", help="With --list: only unconfirmed requests."
        )
        parser.add_argument(
            "--limit", type=positive_int, default=50, help="With --list: how many rows."
        )
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help="Only record the request; delivery happens after commit / on the workers.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            with stop_quietly_on_broken_pipe(self.stdout):
                self._list(options)
        elif options["retry"]:
            self._retry()
        elif options["user"] or options["integration_id"] is not None:
            self._erase(options)
        else:
            raise CommandError("give --user PK or --integration-id ID (or --list / --retry)")

    def _erase(self, options: dict[str, Any]) -> None:
        from django_talon import services

        requested_by = options["requested_by"] or f"command:{_os_user()}"
        integration_id = options["integration_id"]
        if integration_id is not None and not integration_id.strip():
            # "   " was recorded as a tombstone and sent as DELETE /v1/customer_data/%20.
            raise CommandError(f"--integration-id is blank ({integration_id!r}): give the id")
        if integration_id is not None and len(integration_id) > MAX_INTEGRATION_ID_LENGTH:
            # Was recorded and purged locally, then refused by the client for ever (SQLite)
            # or a DataError traceback (PostgreSQL, the column's 1000 characters).
            raise CommandError(
                f"--integration-id is {len(integration_id)} characters long: Talon.One "
                f"integration ids have at most {MAX_INTEGRATION_ID_LENGTH} (nothing recorded)"
            )
        user = None
        if options["user"]:
            user_model = get_user_model()
            try:
                user = user_model._default_manager.get(pk=options["user"])
            except (user_model.DoesNotExist, ValueError) as exc:
                raise CommandError(f"no user with pk {options['user']!r}") from exc
        request = services.erase_customer(
            user, integration_id=integration_id or None, requested_by=requested_by
        )
        self.stdout.write(
            f"Erasure request {request.pk} recorded for {request.integration_id} "
            f"(requested by {request.requested_by}); local data purged."
        )
        if options["no_wait"]:
            return
        confirmed = services.process_erasure(request.pk)
        request.refresh_from_db()
        if confirmed:
            self.stdout.write(self.style.SUCCESS("Talon.One confirmed the erasure."))
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Not confirmed yet ({request.last_error or 'pending'}); it is retried "
                    "until Talon.One confirms (`talon_erase --retry` re-drives it now)."
                )
            )

    def _retry(self) -> None:
        from django_talon import services

        confirmed, total = services.retry_unconfirmed_erasures()
        self.stdout.write(f"{confirmed} of {total} unconfirmed erasure(s) now confirmed.")
        if confirmed < total:
            raise CommandError(f"{total - confirmed} erasure(s) still unconfirmed")

    def _list(self, options: dict[str, Any]) -> None:
        from django_talon.models import DataDeletionRequest

        qs = DataDeletionRequest.objects.order_by("-requested_at")
        if options["pending"]:
            qs = qs.exclude(state=DataDeletionRequest.State.COMPLETED)
        rows = list(qs[: options["limit"]])
        if not rows:
            self.stdout.write("No erasure requests.")
            return
        self.stdout.write(
            f"{'id':>6}  {'state':9} {'att':>3}  {'requested':25} {'completed':25} "
            f"{'integration id':24} requested by / last error"
        )
        for r in rows:
            completed = _local_time(r.completed_at) if r.completed_at else "-"
            note = r.requested_by + (f" / {r.last_error[:60]}" if r.last_error else "")
            self.stdout.write(
                f"{r.pk:>6}  {r.state:9} {r.attempts:>3}  "
                f"{_local_time(r.requested_at):25} {completed:25} "
                f"{r.integration_id[:24]:24} {note}"
            )


def _local_time(value: datetime) -> str:
    """``value`` in the shop's time zone with its UTC offset (``2026-12-02 11:05:00 +0530``),
    the wall-clock time the admin shows for the same request; the database hands aware UTC
    values back under ``USE_TZ``, which printed bare were hours off. A naive value
    (``USE_TZ = False``) is already the shop's local time and is printed as stored."""
    if timezone.is_aware(value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %z")
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"
