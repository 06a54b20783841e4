"""``manage.py talon_reconcile``: discrepancies between what orders were charged and booked.

``list`` shows them (open by default), ``recheck`` reads the sessions from Talon.One again
(``GET /v2/customer_sessions/{id}``) and resolves those that no longer hold, ``export``
writes them as JSON or CSV for accounting, ``report`` prints how many closes reconciled.
The command only parses and prints: the work is in
:mod:`django_talon.services.reconciliation` (docs/reconciliation.md).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_talon.exceptions import TalonUnavailableError
from django_talon.management.arguments import (
    positive_int,
    record_id,
    refuse_unknown_ids,
    stop_quietly_on_broken_pipe,
)

STATUSES = ["open", "resolved", "all"]


def _filters(parser: CommandParser) -> None:
    parser.add_argument("--status", choices=STATUSES, default="open")
    parser.add_argument("--reason", default="", help="Only this reason (e.g. campaign_changed).")
    parser.add_argument("--order", default="", help="Only this order key (app_label.model:pk).")


class Command(BaseCommand):
    help = "List, re-check or export the discrepancies between charged and booked discounts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list", help="List discrepancies (open ones by default).")
        _filters(ls)
        ls.add_argument("--limit", type=positive_int, default=50)
        ls.add_argument("--json", action="store_true", help="One JSON object per line.")

        recheck = sub.add_parser("recheck", help="Read the sessions from Talon.One again.")
        recheck.add_argument("ids", nargs="*", type=record_id, help="Discrepancy ids.")
        recheck.add_argument("--all", action="store_true", help="Every open discrepancy.")

        export = sub.add_parser("export", help="Write discrepancies as JSON or CSV.")
        _filters(export)
        export.add_argument("--format", choices=["json", "csv"], default="json")
        export.add_argument("--output", default="-", help="File to write ('-': stdout).")

        sub.add_parser("report", help="Closes reconciled, open discrepancies by reason.")

    def handle(self, *args: Any, **options: Any) -> None:
        with stop_quietly_on_broken_pipe(self.stdout):
            getattr(self, f"_{options['action']}")(options)

    def _query(self, options: dict[str, Any]) -> Any:
        from django_talon.models import Discrepancy
        from django_talon.services.reconciliation import discrepancies

        reasons = set(Discrepancy.Reason.values)
        if options["reason"] and options["reason"] not in reasons:
            raise CommandError(f"--reason must be one of: {', '.join(sorted(reasons))}")
        return discrepancies(
            status=options["status"], reason=options["reason"], order=options["order"]
        )

    def _list(self, options: dict[str, Any]) -> None:
        from django_talon.promotions import quantize_money
        from django_talon.services.reconciliation import discrepancy_record

        qs = self._query(options)
        total = qs.count()
        rows = list(qs[: options["limit"]])
        if options["json"]:
            for row in rows:
                self.stdout.write(json.dumps(discrepancy_record(row), sort_keys=True))
            return
        if not rows:
            # "No open discrepancies.", "No resolved discrepancies.", "No discrepancies."
            status = "" if options["status"] == "all" else f"{options['status']} "
            self.stdout.write(f"No {status}discrepancies.")
            return
        for row in rows:
            # The currency's own minor unit (3 decimals for KWD): a 0.005 gap stays visible,
            # as in ``export``.
            charged = quantize_money(row.charged_discount, row.currency)
            booked = quantize_money(row.booked_discount, row.currency)
            self.stdout.write(
                f"#{row.pk} {row.order_key or row.session_id} {row.reason} ({row.status}): "
                f"charged {charged}, booked {booked} "
                f"{row.currency}; {' '.join(row.detail.split())[:120]}"
            )
        if total > len(rows):
            self.stdout.write(f"... {total - len(rows)} more (use --limit).")

    def _recheck(self, options: dict[str, Any]) -> None:
        from django_talon.models import Discrepancy
        from django_talon.services.reconciliation import recheck_discrepancy

        if not options["ids"] and not options["all"]:
            raise CommandError("name discrepancy ids or pass --all")
        qs = Discrepancy.objects.select_related("entry", "charged_entry").filter(status="open")
        if options["ids"]:
            _check_open(options["ids"])
            qs = qs.filter(pk__in=options["ids"])
        resolved = failed = still = 0
        for discrepancy in qs.order_by("id"):
            try:
                if recheck_discrepancy(discrepancy):
                    resolved += 1
                else:
                    still += 1
            except TalonUnavailableError as exc:  # one unreachable session must not stop the rest
                failed += 1
                self.stderr.write(f"#{discrepancy.pk}: could not re-check: {exc}")
        self.stdout.write(
            f"Re-checked {resolved + still} discrepancy(ies): {resolved} resolved, "
            f"{still} still open, {failed} failed."
        )
        if failed:
            raise CommandError(f"{failed} re-check(s) failed (Talon.One unavailable?)")

    def _export(self, options: dict[str, Any]) -> None:
        from django_talon.services.reconciliation import discrepancy_record

        records = [discrepancy_record(d) for d in self._query(options).iterator()]
        text = _render(records, options["format"])
        if options["output"] == "-":
            self.stdout.write(text, ending="")
            return
        try:
            with open(options["output"], "w", newline="", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:  # a missing directory, a directory, no permission, a full disk
            raise CommandError(
                f"--output {options['output']}: cannot write: {exc.strerror or exc}"
            ) from exc
        self.stderr.write(f"Wrote {len(records)} discrepancy(ies) to {options['output']}.")

    def _report(self, options: dict[str, Any]) -> None:
        from django_talon.services.reconciliation import reconciliation_report

        report = reconciliation_report()
        self.stdout.write(
            f"Closes: {report.closed}, reconciled: {report.reconciled} "
            f"({report.reconciled_percent:.1f}%), with an open discrepancy: "
            f"{report.with_discrepancy}"
        )
        for reason, count in report.by_reason.items():
            self.stdout.write(f"  {reason}: {count}")


def _check_open(ids: list[int]) -> None:
    """Refuse ids that are no open discrepancy before anything is re-checked (``recheck
    12345`` said "Re-checked 0 discrepancy(ies)" and succeeded: a typo looked like a check)."""
    from django_talon.models import Discrepancy

    statuses = dict(Discrepancy.objects.filter(pk__in=ids).values_list("pk", "status"))
    refuse_unknown_ids(
        ids,
        statuses,
        wanted="open",
        noun="discrepancy",
        other="not open",
        after="nothing re-checked; see `talon_reconcile list`",
    )


def _render(records: list[dict[str, Any]], fmt: str) -> str:
    """JSON (a list) or CSV (one row each; nested values as JSON) of the records."""
    from django_talon.services.reconciliation import RECORD_FIELDS

    if fmt == "json":
        return json.dumps(records, indent=2, sort_keys=True) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(RECORD_FIELDS), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(
            {
                k: json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v
                for k, v in record.items()
            }
        )
    return buffer.getvalue()
