"""Customer-side mirrors: profiles, coupon reservations, referrals and erasure requests."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerProfile(models.Model):
    """A shop user as Talon.One knows them.

    ``integration_id`` is the stable id sent to Talon.One (by default ``user-<pk>``, never the
    e-mail, so that it survives e-mail changes and leaks nothing). ``attributes`` is what was
    last *queued* for Talon.One; ``fingerprint`` lets an unchanged profile skip the API call.
    After an erasure the row stays with ``user=None`` and empty attributes so that late outbox
    rows still find their integration id.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="talon_profile",
    )
    integration_id = models.CharField(_("integration id"), max_length=1000, unique=True)
    attributes = models.JSONField(_("attributes last sent"), default=dict, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    pushed_fingerprint = models.CharField(max_length=64, blank=True, default="")
    last_synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    #: Chosen by ``adapter.application_for_user`` when the profile is created: the
    #: Application its updates are written through.
    application = models.CharField(
        _("Talon.One Application"),
        max_length=50,
        default="default",
        db_index=True,
        help_text=_(
            "The name in TALON['APPLICATIONS'] this profile is written through ('default': the only one)."
        ),
    )

    class Meta:
        verbose_name = _("customer profile")
        verbose_name_plural = _("customer profiles")

    def __str__(self) -> str:
        return self.integration_id


class CouponReservation(models.Model):
    """A coupon code reserved for one customer (mirrors POST /v1/coupon_reservations).

    Rows are written at once when staff reserve; ``synced_at`` is set when the outbox has
    delivered the reservation to Talon.One.
    """

    profile = models.ForeignKey(
        CustomerProfile, on_delete=models.CASCADE, related_name="coupon_reservations"
    )
    coupon_code = models.CharField(_("coupon code"), max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("coupon reservation")
        verbose_name_plural = _("coupon reservations")
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "coupon_code"], name="django_talon_unique_reservation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.coupon_code} for {self.profile_id}"


class Referral(models.Model):
    """A referral code created for an advocate (mirrors POST /v1/referrals)."""

    advocate = models.ForeignKey(
        CustomerProfile, on_delete=models.CASCADE, related_name="referrals"
    )
    campaign_id = models.BigIntegerField()
    code = models.CharField(max_length=100, unique=True)
    talon_id = models.BigIntegerField(null=True, blank=True)
    friend_integration_id = models.CharField(max_length=1000, blank=True, default="")
    start_date = models.DateTimeField(null=True, blank=True)
    expiry_date = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")

    def __str__(self) -> str:
        return self.code


class DataDeletionRequest(models.Model):
    """Audit row for a GDPR erasure: who asked, when, and whether Talon.One confirmed.

    Holds the integration id and nothing else personal: the local personal data is purged
    when the request is recorded; ``DELETE /v1/customer_data/{id}`` is retried by the outbox
    until Talon.One confirms (204, or 404 = nothing left to delete).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        COMPLETED = "completed", _("completed")
        FAILED = "failed", _("failed")

    integration_id = models.CharField(_("integration id"), max_length=1000, db_index=True)
    requested_by = models.CharField(
        _("requested by"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("Who asked, as an opaque reference (e.g. 'user:12', 'staff:3', 'signal')."),
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("data deletion request")
        verbose_name_plural = _("data deletion requests")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"erasure {self.pk} ({self.state})"
