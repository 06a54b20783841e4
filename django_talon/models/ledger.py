"""The order ledger: what each order was charged and what Talon.One booked for it.

The shop's order model is not ours, so an order is identified by ``order_key``
(``'<app_label.model>:<pk>'``, like ``CustomerSession.cart_key``) plus the session's
integration id. Entries are append-only: the app never updates nor deletes one (only the
GDPR erasure of the shop may delete rows through the queryset); :meth:`LedgerEntry.save`
refuses to update a stored row, so the discount that was charged survives every close,
return, cancel and reopen. Entries hold no personal data: no names, no e-mail addresses,
only codes, cart lines (SKU, product name, price) and money.

A :class:`Discrepancy` is the result of a reconciliation that did not add up (booked is not
what was charged); unlike ledger entries it has a status an operator or a re-check moves.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class LedgerEntryUpdateError(RuntimeError):
    """A stored ledger entry was saved again: the ledger is append-only."""


class LedgerEntry(models.Model):
    """One append-only record about an order: what was charged, or what Talon.One answered."""

    class Kind(models.TextChoices):
        CHARGED = "charged", _("charged")
        BOOKED = "booked", _("booked")
        RETURNED = "returned", _("returned")
        CANCELLED = "cancelled", _("cancelled")
        REOPENED = "reopened", _("reopened")

    order_key = models.CharField(
        max_length=255,
        blank=True,
        default="",
        db_index=True,
        help_text=_("'<app_label.model>:<pk>' of the shop order ('' when none was recorded)."),
    )
    #: The Talon.One session's integration id (not a foreign key: the entry outlives the
    #: mirror row, which the shop may purge).
    session_id = models.CharField(_("session id"), max_length=1000, db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    currency = models.CharField(max_length=3, default="EUR")
    #: The quote's status for ``charged`` entries (confirmed, pending, stale, unavailable).
    quote_status = models.CharField(max_length=20, blank=True, default="")
    subtotal = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    discount_total = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    total = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    #: ``{"<campaign id>": "<amount>"}`` (``"None"`` for a discount without a campaign).
    discounts_by_campaign = models.JSONField(default=dict, blank=True)
    coupon_codes = models.JSONField(default=list, blank=True)
    referral_code = models.CharField(max_length=100, blank=True, default="")
    #: The cart lines as sent (charged: as quoted; booked: as closed).
    cart_items = models.JSONField(default=list, blank=True)
    #: ``Quote.to_dict()`` of a charged entry.
    quote = models.JSONField(default=dict, blank=True)
    #: The raw effects exactly as Talon.One sent them (booked, returned, cancelled, reopened).
    effects = models.JSONField(default=list, blank=True)
    #: Returned items of a ``returned`` entry (``[{"position": 0, "quantity": 1}]``).
    returned_items = models.JSONField(default=list, blank=True)
    #: Why the entry looks the way it does (e.g. why the close redeemed no coupon).
    note = models.TextField(blank=True, default="")
    outbox_message_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order ledger entry")
        verbose_name_plural = _("order ledger")
        ordering = ["id"]
        indexes = [models.Index(fields=["session_id", "kind"], name="django_talo_ledger_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.order_key or self.session_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: a stored entry is never updated (the record of what was given)."""
        if self.pk is not None and not self._state.adding:
            raise LedgerEntryUpdateError("ledger entries are append-only")
        super().save(*args, **kwargs)


class Discrepancy(models.Model):
    """Booked is not what was charged, for one ledger entry that was reconciled."""

    class Reason(models.TextChoices):
        OUTAGE_AT_CHECKOUT = "outage_at_checkout", _("outage at checkout")
        CAMPAIGN_CHANGED = "campaign_changed", _("campaign changed")
        BUDGET_EXHAUSTED = "budget_exhausted", _("budget exhausted")
        COUPON_REJECTED = "coupon_rejected", _("coupon rejected at close")
        REFERRAL_REJECTED = "referral_rejected", _("referral rejected at close")
        CART_CHANGED = "cart_changed", _("cart changed after the quote")
        POINTS_UNAVAILABLE = "points_unavailable", _("loyalty points no longer available")
        SUB_UNIT_ROUNDING = "sub_unit_rounding", _("rounding of sub-unit amounts")
        NOT_CHARGED = "not_charged", _("code redeemed but not charged")
        ROLLBACK_MISMATCH = "rollback_mismatch", _("rollback does not match")
        UNKNOWN = "unknown", _("unknown")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RESOLVED = "resolved", _("resolved")

    order_key = models.CharField(max_length=255, blank=True, default="", db_index=True)
    session_id = models.CharField(_("session id"), max_length=1000, db_index=True)
    charged_entry = models.ForeignKey(
        LedgerEntry, on_delete=models.CASCADE, related_name="charged_discrepancies"
    )
    #: The booked / returned / cancelled entry whose reconciliation found the difference.
    entry = models.OneToOneField(LedgerEntry, on_delete=models.CASCADE, related_name="discrepancy")
    reason = models.CharField(max_length=30, choices=Reason.choices, db_index=True)
    detail = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    currency = models.CharField(max_length=3, default="EUR")
    charged_discount = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    booked_discount = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    difference = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    charged_by_campaign = models.JSONField(default=dict, blank=True)
    booked_by_campaign = models.JSONField(default=dict, blank=True)
    #: Codes Talon.One redeemed that the order was not charged for.
    codes_not_charged = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("discrepancy")
        verbose_name_plural = _("discrepancies")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.order_key or self.session_id}"
