"""``manage.py talon_outbox``: look at the outbox, retry or purge dead letters, relay by hand.

Dead letters are writes Talon.One refused (400/404) or that failed ``MAX_ATTEMPTS`` times.
They stay in the database until someone decides: ``retry`` (after fixing the cause, e.g.
creating a missing attribute in the Campaign Manager) or ``purge``. ``relay``/``sweep``
run the periodic jobs once, for deployments without Celery beat or while debugging. The
command only parses and prints: the work is in :mod:`django_talon.services.operations`.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from django_talon.management.arguments import (
    positive_int,
    record_id,
    refuse_unknown_ids,
    stop_quietly_on_broken_pipe,
)
from django_talon.management.commands.talon_sync_profiles import RELATIVE, UNITS

__all__ = ["Command", "check_dead_letters", "parse_age", "positive_int"]


def parse_age(value: str) -> timedelta:
    """``30m``, ``12h``, ``7d``, ``2w``; refused when it reaches before the year 1
    (``999999d`` was a "date value out of range" traceback, ``99999999999d`` an
    ``OverflowError``)."""
    match = RELATIVE.match(value.strip())
    if not match:
        raise CommandError(f"--older-than {value!r}: expected e.g. 30m, 12h, 7d or 2w")
    amount, unit = match.groups()
    try:
        age = timedelta(**{UNITS[unit]: int(amount)})
        timezone.now() - age
    except OverflowError as exc:
        raise CommandError(
            f"--older-than {value!r}: out of the range of dates (years 1-9999)"
        ) from exc
    return age


def check_dead_letters(ids: list[int]) -> None:
    """Refuse message ids that are not dead letters before anything is done.

    ``retry 999999`` used to print "Retried 0 dead letter(s)." and succeed: a typo looked
    like a retry. Nothing is retried or purged when one of the ids is wrong.
    """
    from django_talon.models import OutboxMessage

    states = dict(OutboxMessage.objects.filter(pk__in=ids).values_list("pk", "state"))
    refuse_unknown_ids(
        ids,
        states,
        wanted="dead",
        noun="outbox message",
        other="not a dead letter",
        after="nothing done; see `talon_outbox list`",
    )


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class Command(BaseCommand):
    help = "List outbox messages, retry or purge dead letters, or run the relay/sweeper once."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        ls = sub.add_parser("list", help="List messages (dead letters by default).")
        ls.add_argument("--state", choices=["dead", "pending", "done", "all"], default="dead")
        ls.add_argument("--key", default=None, help="Only this ordering key (e.g. session:abc).")
        ls.add_argument("--limit", type=positive_int, default=50)
        ls.add_argument("--json", action="store_true", help="One JSON object per line.")

        retry = sub.add_parser("retry", help="Make dead letters pending again and deliver them.")
        retry.add_argument("ids", nargs="*", type=record_id, help="Message ids.")
        retry.add_argument("--key", default=None, help="All dead letters of this key.")
        retry.add_argument("--all", action="store_true", help="Every dead letter.")

        purge = sub.add_parser("purge", help="Delete dead letters.")
        purge.add_argument("ids", nargs="*", type=record_id, help="Message ids.")
        purge.add_argument("--older-than", default=None, help="Only those older than 7d, 12h ...")
        purge.add_argument("--all", action="store_true", help="Every dead letter.")

        relay = sub.add_parser("relay", help="Deliver due messages now (what beat does).")
        relay.add_argument(
            "--limit",
            type=positive_int,
            default=None,
            help="At most this many keys (default: TALON['RELAY_BATCH_SIZE']).",
        )

        sub.add_parser("sweep", help="Re-drive stranded messages and purge old done ones.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        with stop_quietly_on_broken_pipe(self.stdout):
            getattr(self, f"_{action}")(options)

    # -- actions -------------------------------------------------------------------------------
    def _list(self, options: dict[str, Any]) -> None:
        from django_talon.models import OutboxMessage

        qs = OutboxMessage.objects.order_by("id")
        if options["state"] != "all":
            qs = qs.filter(state=options["state"])
        if options["key"]:
            qs = qs.filter(key=options["key"])
        total = qs.count()
        rows = list(qs[: options["limit"]])
        if options["json"]:
            for row in rows:
                self.stdout.write(
                    json.dumps(
                        {
                            "id": row.pk,
                            "operation": row.operation,
                            "key": row.key,
                            "state": row.state,
                            "attempts": row.attempts,
                            "next_attempt_at": row.next_attempt_at.isoformat(),
                            "updated_at": row.updated_at.isoformat(),
                            "last_error": row.last_error,
                        }
                    )
                )
            return
        if not rows:
            self.stdout.write(f"No {options['state']} outbox messages.")
            return
        self.stdout.write(f"{'id':>7}  {'state':7} {'att':>3}  {'operation':16} key / last error")
        for row in rows:
            self.stdout.write(
                f"{row.pk:>7}  {row.state:7} {row.attempts:>3}  {row.operation:16} {row.key}"
            )
            if row.last_error:
                self.stdout.write(f"{'':38}{_short(row.last_error, 200)}")
        if total > len(rows):
            self.stdout.write(f"... {total - len(rows)} more (use --limit)")

    def _retry(self, options: dict[str, Any]) -> None:
        """Retry, deliver, and say what became of the rows: "Retried 1" while Talon.One
        answered 503 read as delivered though the row was only queued again."""
        from django_talon import services
        from django_talon.models import OutboxMessage
        from django_talon.outbox import dead_letters

        ids = options["ids"] or None
        if ids is None and not options["key"] and not options["all"]:
            raise CommandError("say which dead letters to retry: ids, --key KEY or --all")
        if ids:
            check_dead_letters(ids)
        else:
            chosen = dead_letters()
            if options["key"]:
                chosen = chosen.filter(key=options["key"])
            ids = list(chosen.values_list("pk", flat=True))
        outcome = services.redeliver_dead_letters(ids, key=options["key"])
        states = Counter(OutboxMessage.objects.filter(pk__in=ids).values_list("state", flat=True))
        delivered = states[OutboxMessage.State.DONE]
        queued = states[OutboxMessage.State.PENDING]
        self.stdout.write(
            f"Retried {outcome.retried} dead letter(s). {delivered} delivered, "
            f"{queued} pending again, {outcome.dead_again} dead again."
        )
        if queued:
            self.stdout.write(
                self.style.WARNING(
                    f"{queued} of them could not be delivered yet (Talon.One unavailable?): "
                    "the relay retries them."
                )
            )
        if outcome.dead_again:
            self.stdout.write(
                self.style.WARNING(
                    f"{outcome.dead_again} of them failed again: see `talon_outbox list`."
                )
            )

    def _purge(self, options: dict[str, Any]) -> None:
        from django_talon import services

        ids = options["ids"] or None
        older = parse_age(options["older_than"]) if options["older_than"] else None
        if ids is None and older is None and not options["all"]:
            raise CommandError("say which dead letters to purge: ids, --older-than AGE or --all")
        if ids:
            check_dead_letters(ids)
        count = services.purge_dead_letters(ids, older_than=older)
        self.stdout.write(f"Purged {count} dead letter(s).")

    def _relay(self, options: dict[str, Any]) -> None:
        from django_talon import services

        keys = services.relay_outbox(options["limit"])
        self.stdout.write(f"Relayed {keys} key(s).")

    def _sweep(self, options: dict[str, Any]) -> None:
        from django_talon import services

        result = services.sweep_outbox()
        self.stdout.write(
            f"Re-drove {result['redriven']} stranded key(s); purged {result['purged']} done message(s)."
        )
