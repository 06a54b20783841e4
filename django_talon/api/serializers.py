"""Serializers: the promotions summary out, codes and staff actions in.

Output serializers are read-only views of :mod:`django_talon.promotions` dataclasses so the
API shows exactly what the templates show. Money is serialised as a decimal *string* in the
shop's currency (``"12.60"``), which JSON clients can parse without float rounding.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from django_talon.client.models import Coupon
from django_talon.client.models import Referral as ClientReferral
from django_talon.models import CouponReservation, Referral
from django_talon.moments import parse_for_shop
from django_talon.services.customers import CustomerInventory

MAX_CODE_LENGTH = 100  # Talon.One's limit for couponCodes[] and referralCode


class MomentField(serializers.DateTimeField):
    """A moment, always written with its UTC offset (``2026-12-04T19:03:06+01:00``).

    Why: the schema promises RFC 3339 ``date-time``, which carries an offset. Under
    ``USE_TZ = False`` the shop's date-times are naive local time (``TIME_ZONE``) and DRF
    writes them without one, which a browser reads as *its own* local time; an aware value
    DRF would even turn into naive UTC there. Here a naive value is taken as the shop's local
    time and an aware one is shown in it, whatever ``USE_TZ`` says.
    """

    def default_timezone(self) -> Any:
        return timezone.get_current_timezone()


class DiscountSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(
        read_only=True, help_text=_("Display name (per-item discounts without '#<position>').")
    )
    raw_name = serializers.CharField(read_only=True, help_text=_("Name as Talon.One sent it."))
    amount = serializers.CharField(read_only=True, help_text=_("Discount in the shop currency."))
    effect_type = serializers.CharField(read_only=True)
    campaign_id = serializers.IntegerField(read_only=True, allow_null=True)
    scope = serializers.CharField(read_only=True)
    position = serializers.IntegerField(read_only=True, allow_null=True)
    sub_position = serializers.IntegerField(read_only=True, allow_null=True)
    additional_cost = serializers.CharField(read_only=True)


class CartLineSerializer(serializers.Serializer):  # type: ignore[type-arg]
    position = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    category = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    unit_price = serializers.CharField(read_only=True)
    subtotal = serializers.CharField(read_only=True)
    discount = serializers.CharField(read_only=True)
    #: per-item discounts off the line's own additional costs (scopes additionalCosts, itemTotal)
    discount_on_costs = serializers.CharField(read_only=True)
    total = serializers.CharField(read_only=True)
    discounts = DiscountSerializer(many=True, read_only=True)


class FreeItemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    sku = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    desired_quantity = serializers.IntegerField(read_only=True)
    quantity_in_cart = serializers.IntegerField(read_only=True)
    in_cart = serializers.BooleanField(read_only=True)
    campaign_id = serializers.IntegerField(read_only=True, allow_null=True)


class CodeResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=["coupon", "referral"], read_only=True)
    status = serializers.ChoiceField(choices=["accepted", "rejected", "pending"], read_only=True)
    reason = serializers.CharField(read_only=True, help_text=_("Talon.One rejection reason."))
    message = serializers.CharField(read_only=True, help_text=_("Translated message to show."))
    campaign_ids = serializers.ListField(child=serializers.IntegerField(), read_only=True)


class LoyaltyPointsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.ChoiceField(choices=["earn", "spend"], read_only=True)
    points = serializers.CharField(read_only=True)
    program_id = serializers.IntegerField(read_only=True, allow_null=True)
    sub_ledger_id = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    campaign_id = serializers.IntegerField(read_only=True, allow_null=True)


class NotificationSerializer(serializers.Serializer):  # type: ignore[type-arg]
    notification_type = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    campaign_id = serializers.IntegerField(read_only=True, allow_null=True)


class QuoteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The quote the promotions are the view of: what the shop charges for this cart."""

    status = serializers.ChoiceField(
        choices=["confirmed", "pending", "stale", "unavailable"],
        source="status.value",
        read_only=True,
        help_text=_("Whether Talon.One confirmed the discounts for this very cart."),
    )
    confirmed = serializers.BooleanField(read_only=True)
    message = serializers.CharField(
        read_only=True, help_text=_("Why the discounts are not (all) confirmed; '' if they are.")
    )
    fingerprint = serializers.CharField(read_only=True, help_text=_("The cart state quoted."))
    subtotal = serializers.CharField(read_only=True)
    discount_total = serializers.CharField(read_only=True)
    total = serializers.CharField(read_only=True, help_text=_("What the shop charges."))
    coupon_codes = serializers.ListField(child=serializers.CharField(), read_only=True)
    referral_code = serializers.CharField(read_only=True)


class AdditionalCostSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """An additional cost (shipping, gift wrap) with the discounts on it."""

    name = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    price = serializers.CharField(read_only=True)
    discount = serializers.CharField(read_only=True)
    total = serializers.CharField(read_only=True, help_text=_("The cost after its discounts."))
    discounts = DiscountSerializer(many=True, read_only=True)


class CreatedCodeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A coupon or referral code a rule created (``couponCreated`` / ``referralCreated``)."""

    kind = serializers.CharField(read_only=True, help_text=_("coupon or referral"))
    code = serializers.CharField(read_only=True)
    campaign_id = serializers.IntegerField(read_only=True, allow_null=True)


class GiveawaySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A giveaway code awarded (``awardGiveaway``)."""

    code = serializers.CharField(read_only=True)
    pool_id = serializers.IntegerField(read_only=True)
    pool_name = serializers.CharField(read_only=True)
    campaign_id = serializers.IntegerField(read_only=True, allow_null=True)


class PromotionsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The current cart's :class:`~django_talon.promotions.PromotionsSummary`: the view of
    its quote (``quote``), so ``total`` is what the shop charges."""

    currency = serializers.CharField(read_only=True)
    subtotal = serializers.CharField(read_only=True)
    total_discount = serializers.CharField(read_only=True)
    cart_discount_total = serializers.CharField(read_only=True)
    item_discount_total = serializers.CharField(read_only=True)
    total = serializers.CharField(read_only=True, help_text=_("Total after discounts."))
    lines = CartLineSerializer(many=True, read_only=True)
    cart_discounts = DiscountSerializer(many=True, read_only=True)
    item_discounts = DiscountSerializer(many=True, read_only=True)
    free_items = FreeItemSerializer(many=True, read_only=True)
    additional_costs = AdditionalCostSerializer(many=True, read_only=True)
    additional_cost_discounts = DiscountSerializer(many=True, read_only=True)
    additional_cost_total = serializers.CharField(
        read_only=True, help_text=_("Additional costs (cart and lines) after their discounts.")
    )
    created_codes = CreatedCodeSerializer(many=True, read_only=True)
    giveaways = GiveawaySerializer(many=True, read_only=True)
    coupons = CodeResultSerializer(many=True, read_only=True)
    referrals = CodeResultSerializer(many=True, read_only=True)
    loyalty = LoyaltyPointsSerializer(many=True, read_only=True)
    points_to_earn = serializers.CharField(read_only=True)
    points_to_spend = serializers.CharField(read_only=True)
    notifications = NotificationSerializer(many=True, read_only=True)
    other_effects = serializers.ListField(child=serializers.DictField(), read_only=True)
    unknown_effects = serializers.ListField(child=serializers.DictField(), read_only=True)
    unusable_effects = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text=_("Effects whose amount cannot be money (NaN, Infinity, 1e29): not applied."),
    )
    received_at = MomentField(read_only=True, allow_null=True)
    stale = serializers.BooleanField(read_only=True)
    quote = QuoteSerializer(read_only=True, allow_null=True)


def _clean_code(value: str) -> str:
    code = value.strip()
    if not code:
        raise serializers.ValidationError(_("Enter a code."))
    if any(ch.isspace() for ch in code) or not code.isprintable():
        raise serializers.ValidationError(_("A code cannot contain spaces or control characters."))
    return code


class CodeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A coupon or referral code the shopper typed."""

    code = serializers.CharField(max_length=MAX_CODE_LENGTH, trim_whitespace=True)

    def validate_code(self, value: str) -> str:
        return _clean_code(value)


class ReferralCreateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    campaign_id = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Defaults to TALON['REFERRAL_CAMPAIGN_ID'].")
    )


class _ModelSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A model's serializer whose date-times carry their offset (:class:`MomentField`)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: MomentField,
    }


class CouponReservationSerializer(_ModelSerializer):
    code = serializers.CharField(source="coupon_code", read_only=True)
    synced = serializers.SerializerMethodField()

    class Meta:
        model = CouponReservation
        fields = ["code", "created_at", "synced"]
        read_only_fields = fields

    def get_synced(self, obj: CouponReservation) -> bool:
        return obj.synced_at is not None


class ReferralSerializer(_ModelSerializer):
    class Meta:
        model = Referral
        fields = ["code", "campaign_id", "start_date", "expiry_date", "usage_limit", "created_at"]
        read_only_fields = fields


#: the largest database integer: a bigger integer id is a 400, not a 500 of the query
_MAX_INTEGER_ID = 2**63 - 1


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class UserIdField(serializers.Field):  # type: ignore[type-arg]
    """A shop user's primary key, as the user model has it: a number for Django's ``User``
    (any integer key), a string for a UUID or text key.

    Why not ``IntegerField``: a shop whose user model has a UUID key could not name its
    customers (400 for every id), and a reservation's customers were listed with their
    UUID turned into a 128-bit number, an id no lookup finds.
    """

    default_error_messages = {"invalid": _("Not a valid user id.")}

    def to_representation(self, value: Any) -> Any:
        return value if isinstance(value, int) else str(value)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("invalid")
        try:
            value = get_user_model()._meta.pk.to_python(data)
        except (DjangoValidationError, TypeError, ValueError):
            self.fail("invalid")
        if isinstance(value, int) and not 1 <= value <= _MAX_INTEGER_ID:
            self.fail("invalid")
        return value


class StaffReservationSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Reserve or release ``code`` for customers given by integration id and/or user id."""

    code = serializers.CharField(max_length=MAX_CODE_LENGTH)
    integration_ids = serializers.ListField(
        child=serializers.CharField(max_length=1000),
        required=False,
        default=list,
        max_length=10000,
    )
    user_ids = serializers.ListField(
        child=UserIdField(),
        required=False,
        default=list,
        max_length=10000,
    )

    def validate_code(self, value: str) -> str:
        return _clean_code(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("integration_ids") and not attrs.get("user_ids"):
            raise serializers.ValidationError(
                {"integration_ids": [_("Give at least one integration id or user id.")]}
            )
        return attrs


class ReservedCustomerSerializer(serializers.Serializer):  # type: ignore[type-arg]
    integration_id = serializers.CharField(read_only=True)
    user_id = UserIdField(read_only=True, allow_null=True)
    reserved_at = MomentField(read_only=True, allow_null=True)
    synced = serializers.BooleanField(read_only=True)


# --------------------------------------------------------------------------- inventory


class TalonDateTimeField(MomentField):
    """A date-time Talon.One sent as a string: re-rendered as ISO 8601 with its offset (an
    unparseable or impossible one, data from the network, is null rather than a string the
    schema does not promise, or a 500), in the shop's time zone like its other moments."""

    def to_representation(self, value: Any) -> Any:
        if isinstance(value, str):
            value = parse_for_shop(value)
            if value is None:
                return None
        return super().to_representation(value)


class InventoryCouponSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A coupon of the customer's Talon.One inventory (Talon.One's ``Coupon``, snake_case)."""

    value = serializers.CharField(read_only=True, help_text=_("The coupon code."))
    campaign_id = serializers.IntegerField(read_only=True, allow_null=True)
    state = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=_("Talon.One's state: active, used, expired, pending or disabled."),
    )
    start_date = TalonDateTimeField(read_only=True, allow_null=True)
    expiry_date = TalonDateTimeField(read_only=True, allow_null=True)
    usage_limit = serializers.IntegerField(read_only=True, allow_null=True)
    usage_counter = serializers.IntegerField(read_only=True, allow_null=True)
    profile_redemption_count = serializers.IntegerField(read_only=True, allow_null=True)
    reservation_mandatory = serializers.BooleanField(
        source="is_reservation_mandatory",
        read_only=True,
        allow_null=True,
        help_text=_("Only reserved customers can redeem it."),
    )


class InventoryReferralSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A referral code of the customer's inventory (Talon.One's ``Referral``, snake_case)."""

    code = serializers.CharField(read_only=True)
    campaign_id = serializers.IntegerField(read_only=True, allow_null=True)
    start_date = TalonDateTimeField(read_only=True, allow_null=True)
    expiry_date = TalonDateTimeField(read_only=True, allow_null=True)
    usage_limit = serializers.IntegerField(read_only=True, allow_null=True)
    usage_counter = serializers.IntegerField(read_only=True, allow_null=True)
    referred_customers = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=_("Friends' integration ids.")
    )


class LoyaltyBalanceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One loyalty programme's balance (decimal strings, as money is)."""

    program_id = serializers.IntegerField(read_only=True, allow_null=True)
    title = serializers.CharField(read_only=True)
    current_balance = serializers.CharField(read_only=True, source="current")
    pending_balance = serializers.CharField(read_only=True, source="pending")


class InventorySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The signed-in customer's Talon.One inventory, shaped like the app's other answers
    (snake_case, typed) rather than Talon.One's camelCase JSON."""

    found = serializers.BooleanField(
        read_only=True, help_text=_("False when Talon.One does not know the customer yet.")
    )
    coupons = InventoryCouponSerializer(many=True, read_only=True)
    referrals = InventoryReferralSerializer(many=True, read_only=True)
    loyalty = LoyaltyBalanceSerializer(many=True, read_only=True)


def inventory_data(inventory: CustomerInventory) -> dict[str, Any]:
    """What :class:`InventorySerializer` renders: the service's JSON objects parsed into the
    client's typed models (fields of the wrong type become null, never a 500)."""
    return {
        "found": inventory.found,
        "coupons": [Coupon.from_json(raw) for raw in inventory.coupons],
        "referrals": [ClientReferral.from_json(raw) for raw in inventory.referrals],
        "loyalty": inventory.loyalty_balances,
    }


# --------------------------------------------------------------------------- errors


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """DRF's error body, as :mod:`django_talon.api.errors` answers it (401, 403, 404, 429,
    502, 503): one translated sentence."""

    detail = serializers.CharField(read_only=True)
