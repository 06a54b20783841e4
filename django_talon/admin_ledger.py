"""Admin for the order ledger and its discrepancies (imported by :mod:`django_talon.admin`).

Ledger entries are append-only: staff with the view permission read them, nobody adds,
edits or deletes one here. A discrepancy's page shows what was charged and what Talon.One
booked side by side; the "re-check" action reads the session from Talon.One again
(``services.recheck_discrepancy``) and needs the ``change_discrepancy`` permission, like
every admin action that calls Talon.One.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_talon.exceptions import TalonRequestFailedError, TalonUnavailableError
from django_talon.models import Discrepancy, LedgerEntry
from django_talon.promotions import currency_exponent, quantize_money

logger = logging.getLogger(__name__)

__all__ = ["DiscrepancyAdmin", "LedgerEntryAdmin"]


def _json(value: Any) -> str:
    return format_html(
        '<pre style="white-space: pre-wrap; max-height: 30em; overflow: auto">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str),
    )


def _entry_link(entry: LedgerEntry) -> str:
    url = reverse("admin:django_talon_ledgerentry_change", args=[entry.pk])
    return format_html('<a href="{}">{} #{}</a>', url, entry.get_kind_display(), entry.pk)


class _ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Rows written by the services only: no add, no edit form, no delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(_ReadOnlyAdmin):
    list_display = [
        "id",
        "order_key",
        "kind",
        "quote_status",
        "discount",
        "total_amount",
        "currency",
        "created_at",
    ]
    list_filter = ["kind", "quote_status"]
    search_fields = ["order_key", "session_id"]
    fields = [
        "order_key",
        "session_id",
        "kind",
        "quote_status",
        "currency",
        "subtotal_amount",
        "discount",
        "total_amount",
        "by_campaign",
        "coupon_codes",
        "referral_code",
        "note",
        "cart_json",
        "quote_json",
        "effects_json",
        "returned_items",
        "outbox_message_id",
        "created_at",
    ]
    readonly_fields = list(fields)  # type: ignore[arg-type]

    # The amounts in the entry's currency (the columns keep 4 decimals for every currency:
    # "374.0000" read as a different amount than the 374.00 the shop charged).
    @admin.display(description=_("subtotal"), ordering="subtotal")
    def subtotal_amount(self, obj: LedgerEntry) -> str:
        return _money(obj.subtotal, obj.currency)

    @admin.display(description=_("discount total"), ordering="discount_total")
    def discount(self, obj: LedgerEntry) -> str:
        return _money(obj.discount_total, obj.currency)

    @admin.display(description=_("total"), ordering="total")
    def total_amount(self, obj: LedgerEntry) -> str:
        return _money(obj.total, obj.currency)

    @admin.display(description=_("discounts by campaign"))
    def by_campaign(self, obj: LedgerEntry) -> str:
        return _json(obj.discounts_by_campaign)

    @admin.display(description=_("cart"))
    def cart_json(self, obj: LedgerEntry) -> str:
        return _json(obj.cart_items)

    @admin.display(description=_("quote"))
    def quote_json(self, obj: LedgerEntry) -> str:
        return _json(obj.quote)

    @admin.display(description=_("effects (as Talon.One sent them)"))
    def effects_json(self, obj: LedgerEntry) -> str:
        return _json(obj.effects)


def _money(value: Any, currency: str) -> str:
    """``value`` in ``currency``'s own minor unit (3 decimals for KWD, so a 0.005 gap shows),
    localized like the rest of the admin (``10,125`` under ``de``; thousands grouped when
    ``USE_THOUSAND_SEPARATOR``). A malformed stored amount shows as 0 rather than a 500."""
    return number_format(
        quantize_money(value, currency),
        decimal_pos=currency_exponent(currency),
    )


@admin.register(Discrepancy)
class DiscrepancyAdmin(_ReadOnlyAdmin):
    list_display = [
        "id",
        "order_key",
        "reason",
        "status",
        "charged_amount",
        "booked_amount",
        "difference_amount",
        "created_at",
        "checked_at",
    ]
    list_filter = ["status", "reason"]
    search_fields = ["order_key", "session_id"]
    list_select_related = ["entry", "charged_entry"]
    actions = ["recheck"]
    fields = [
        "order_key",
        "session_id",
        "reason",
        "status",
        "detail",
        "side_by_side",
        "codes_not_charged",
        "entries",
        "raw_side_by_side",
        "created_at",
        "checked_at",
        "resolved_at",
    ]
    readonly_fields = list(fields)  # type: ignore[arg-type]

    # The list's amounts in the discrepancy's currency, as the ledger entries show them (the
    # columns keep 4 decimals: "-4.4500" for a 4.45 difference).
    @admin.display(description=_("charged discount"), ordering="charged_discount")
    def charged_amount(self, obj: Discrepancy) -> str:
        return _money(obj.charged_discount, obj.currency)

    @admin.display(description=_("booked discount"), ordering="booked_discount")
    def booked_amount(self, obj: Discrepancy) -> str:
        return _money(obj.booked_discount, obj.currency)

    @admin.display(description=_("difference"), ordering="difference")
    def difference_amount(self, obj: Discrepancy) -> str:
        return _money(obj.difference, obj.currency)

    @admin.display(description=_("charged and booked"))
    def side_by_side(self, obj: Discrepancy) -> str:
        """One row per campaign: what the order was charged, what Talon.One booked."""
        charged, booked = obj.charged_by_campaign or {}, obj.booked_by_campaign or {}
        rows = []
        for key in sorted(set(charged) | set(booked)):
            left = quantize_money(charged.get(key, 0), obj.currency)
            right = quantize_money(booked.get(key, 0), obj.currency)
            rows.append(
                (
                    key,
                    _money(left, obj.currency),
                    _money(right, obj.currency),
                    _money(right - left, obj.currency),
                )
            )
        rows.append(
            (
                _("total"),
                _money(obj.charged_discount, obj.currency),
                _money(obj.booked_discount, obj.currency),
                _money(obj.difference, obj.currency),
            )
        )
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            "<table><thead><tr><th>{}</th><th>{} ({})</th><th>{} ({})</th><th>{}</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            _("campaign"),
            _("charged"),
            obj.currency,
            _("booked"),
            obj.currency,
            _("booked − charged"),
            body,
        )

    @admin.display(description=_("ledger entries"))
    def entries(self, obj: Discrepancy) -> str:
        return format_html("{} → {}", _entry_link(obj.charged_entry), _entry_link(obj.entry))

    @admin.display(description=_("quote charged / effects booked"))
    def raw_side_by_side(self, obj: Discrepancy) -> str:
        return format_html(
            '<table><tr><th>{}</th><th>{}</th></tr><tr><td style="vertical-align: top">{}'
            '</td><td style="vertical-align: top">{}</td></tr></table>',
            _("charged (quote)"),
            _("booked (effects)"),
            _json(obj.charged_entry.quote),
            _json(obj.entry.effects),
        )

    def has_recheck_permission(self, request: HttpRequest) -> bool:
        """The re-check's permission (``change_discrepancy``): Django offers the action only
        to staff who may run it (the page is view-only: ``has_change_permission`` is False)."""
        return bool(request.user.has_perm("django_talon.change_discrepancy"))

    @admin.action(description=_("Re-check against Talon.One"), permissions=["recheck"])
    def recheck(self, request: HttpRequest, queryset: QuerySet[Discrepancy]) -> None:
        """Re-check each discrepancy; a failure says whether Talon.One was unavailable (try
        again later) or refused the request (its status and answer: retrying will not
        help until the cause is fixed, e.g. a session Talon.One does not know, a wrong key)."""
        if not self.has_recheck_permission(request):
            raise PermissionDenied
        from django_talon.services import recheck_discrepancy

        resolved = 0
        unavailable: list[tuple[Discrepancy, str]] = []
        refused: list[tuple[Discrepancy, str]] = []
        for discrepancy in queryset.select_related("entry", "charged_entry"):
            try:
                resolved += recheck_discrepancy(discrepancy)
            except TalonRequestFailedError as exc:  # shown to staff; the service logged it
                logger.warning("re-checking discrepancy %s was refused: %s", discrepancy.pk, exc)
                refused.append((discrepancy, _refusal(exc)))
            except TalonUnavailableError as exc:
                logger.warning("re-checking discrepancy %s failed: %s", discrepancy.pk, exc)
                unavailable.append((discrepancy, str(exc)))
        self.message_user(
            request,
            ngettext(
                "%(count)d discrepancy resolved by the re-check.",
                "%(count)d discrepancies resolved by the re-check.",
                resolved,
            )
            % {"count": resolved},
            messages.SUCCESS,
        )
        if unavailable:
            self.message_user(
                request,
                ngettext(
                    "%(count)d could not be re-checked: Talon.One is unavailable, try again "
                    "later (discrepancy %(first)s: %(reason)s).",
                    "%(count)d could not be re-checked: Talon.One is unavailable, try again "
                    "later (discrepancy %(first)s: %(reason)s).",
                    len(unavailable),
                )
                % {
                    "count": len(unavailable),
                    "first": unavailable[0][0].pk,
                    "reason": unavailable[0][1],
                },
                messages.WARNING,
            )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(count)d could not be re-checked: Talon.One refused the request "
                    "(discrepancy %(first)s: %(reason)s).",
                    "%(count)d could not be re-checked: Talon.One refused the requests "
                    "(discrepancy %(first)s: %(reason)s).",
                    len(refused),
                )
                % {"count": len(refused), "first": refused[0][0].pk, "reason": refused[0][1]},
                messages.ERROR,
            )


def _refusal(exc: TalonRequestFailedError) -> str:
    """Talon.One's refusal in a few words: the status (401/403 named as the credentials'
    problem they are) and its message. Never the API key: the text comes redacted."""
    if exc.status in (401, 403):
        return str(
            _("HTTP %(status)s: the API key in the TALON setting or its permissions")
            % {"status": exc.status}
        )
    detail = exc.api_message or str(exc)
    return f"HTTP {exc.status}: {detail}" if exc.status is not None else detail
