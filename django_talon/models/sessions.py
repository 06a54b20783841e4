"""The customer-session mirror: the cart as last queued for Talon.One and the effects it returned."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_talon.models.profiles import CustomerProfile


class CustomerSession(models.Model):
    """One Talon.One customer session, usually one shop cart until its order is placed.

    ``cart_items``, ``additional_costs``, ``coupon_codes``, ``referral_code``, ``attributes``
    and ``state`` are the state last *queued* (the outbox delivers it); ``effects`` is the raw
    effect list from the
    last successful answer (``django_talon.promotions.decoded_effects(session)`` decodes it;
    the model does not, because models import no client code) and ``effects_received_at``
    says how old it is. ``fingerprint`` is the hash of the last queued payload and
    ``pushed_fingerprint`` of the last delivered one: an unchanged cart costs no outbox row
    and no API call.
    """

    class State(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")
        PARTIALLY_RETURNED = "partially_returned", _("partially returned")
        CANCELLED = "cancelled", _("cancelled")

    integration_id = models.CharField(_("session id"), max_length=1000, unique=True)
    profile = models.ForeignKey(
        CustomerProfile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
    )
    cart_key = models.CharField(
        max_length=255,
        blank=True,
        default="",
        db_index=True,
        help_text=_("'<app_label.model>:<pk>' of the shop cart this session mirrors."),
    )
    state = models.CharField(max_length=30, default=State.OPEN)
    cart_items = models.JSONField(default=list, blank=True)
    coupon_codes = models.JSONField(default=list, blank=True)
    referral_code = models.CharField(max_length=100, blank=True, default="")
    attributes = models.JSONField(default=dict, blank=True)
    #: ``{name: {"price": number}}``: the cart-level additional costs (shipping, gift wrap)
    #: last queued, from ``adapter.additional_costs(cart)``.
    additional_costs = models.JSONField(default=dict, blank=True)
    #: ``["<campaign id>:<sku>", ...]``: free items (``addFreeItem``) the app already put
    #: into the cart, so a line the shopper removed is not added again for that effect.
    free_items_added = models.JSONField(default=list, blank=True)
    #: Loyalty points the shopper wants to spend on this cart, sent as the session attribute
    #: ``TALON["LOYALTY_REDEEM_ATTRIBUTE"]``; None: never asked (nothing sent), 0: cleared.
    points_to_redeem = models.PositiveIntegerField(null=True, blank=True)
    #: ``["<card identifier>"]``: the loyalty card of a card-based program the session's
    #: points go to, from ``adapter.loyalty_cards(cart)``; sent as ``loyaltyCards``.
    loyalty_cards = models.JSONField(default=list, blank=True)
    effects = models.JSONField(default=list, blank=True)
    effects_received_at = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    pushed_fingerprint = models.CharField(max_length=64, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    #: Chosen by ``adapter.application_for_cart`` when the session is created; every write
    #: of the session goes to it, and its currency is the session's.
    application = models.CharField(
        _("Talon.One Application"),
        max_length=50,
        default="default",
        db_index=True,
        help_text=_(
            "The name in TALON['APPLICATIONS'] this session lives in ('default': the only one)."
        ),
    )

    class Meta:
        verbose_name = _("customer session")
        verbose_name_plural = _("customer sessions")
        indexes = [models.Index(fields=["profile", "state"], name="django_talo_profile_state")]
        constraints = [
            # One open session per cart, so concurrent first saves agree on the session.
            models.UniqueConstraint(
                fields=["cart_key"],
                condition=models.Q(state="open") & ~models.Q(cart_key=""),
                name="django_talon_one_open_session_per_cart",
            )
        ]

    def __str__(self) -> str:
        return self.integration_id

    @property
    def is_open(self) -> bool:
        return bool(self.state == "open")

    @property
    def profile_integration_id(self) -> str:
        """The ``profileId`` sent to Talon.One ("" for an anonymous cart)."""
        return self.profile.integration_id if self.profile_id and self.profile else ""
