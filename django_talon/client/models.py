"""Typed response objects. Each keeps ``.raw``: the whole decoded JSON, unknown fields included.

Fields are read tolerantly: Talon.One has shipped responses that omit "required" fields and
has grown enums over time, so a missing or odd value becomes ``None`` (or an empty list /
dict) instead of an exception; the original is always in ``.raw``. Money is ``Decimal``;
timestamps stay RFC 3339 strings as sent. Enum-like strings (session ``state``, inventory
coupon ``state``) are kept verbatim, so new values pass through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from .effects import Effect, decode_effects
from .effects.convert import to_bool, to_decimal, to_dict, to_int, to_str

__all__ = [
    "Coupon",
    "CustomerInventory",
    "CustomerProfile",
    "CustomerSession",
    "CustomerSessionState",
    "IntegrationStateV1",
    "IntegrationStateV2",
    "MultipleProfilesResult",
    "Page",
    "Referral",
    "ReopenSessionResult",
]


T = TypeVar("T")


def _obj(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _objs(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [dict(v) for v in value if v.__class__ is dict or isinstance(v, Mapping)]


def _strs(value: Any) -> list[str]:
    """The strings of a JSON array of strings (others dropped); ``[]`` for a non-array."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _ints(value: Any) -> list[int]:
    """The int64 ids of a JSON array (others dropped); ``[]`` for a non-array."""
    if not isinstance(value, list):
        return []
    return [n for n in map(to_int, value) if n is not None]


def _obj_map(value: Any) -> dict[str, dict[str, Any]]:
    """A ``{name: object}`` map (``additionalCosts``) with the objects kept as sent."""
    if not isinstance(value, Mapping):
        return {}
    return {k: dict(v) for k, v in value.items() if isinstance(k, str) and isinstance(v, Mapping)}


def _money_map(value: Any) -> dict[str, Decimal]:
    """A ``{name: amount}`` map (v1 ``discounts``) as ``Decimal``; non-numbers dropped."""
    if not isinstance(value, Mapping):
        return {}
    amounts = {k: to_decimal(v) for k, v in value.items() if isinstance(k, str)}
    return {k: v for k, v in amounts.items() if v is not None}


@dataclass(frozen=True)
class CustomerProfile:
    """A customer profile (``CustomerProfile``)."""

    integration_id: str
    id: int | None
    attributes: dict[str, Any]
    audience_memberships: list[dict[str, Any]]
    closed_sessions: int | None
    total_sales: Decimal | None
    created: str | None
    last_activity: str | None
    account_id: int | None
    sandbox: bool | None
    loyalty_memberships: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> CustomerProfile:
        raw = _obj(data)
        return cls(
            integration_id=to_str(raw.get("integrationId")) or "",
            id=to_int(raw.get("id")),
            attributes=to_dict(raw.get("attributes")) or {},
            audience_memberships=_objs(raw.get("audienceMemberships")),
            closed_sessions=to_int(raw.get("closedSessions")),
            total_sales=to_decimal(raw.get("totalSales")),
            created=to_str(raw.get("created")),
            last_activity=to_str(raw.get("lastActivity")),
            account_id=to_int(raw.get("accountId")),
            sandbox=to_bool(raw.get("sandbox")),
            loyalty_memberships=_objs(raw.get("loyaltyMemberships")),
            raw=raw,
        )


@dataclass(frozen=True)
class CustomerSession:
    """A customer session (v2 ``CustomerSessionV2`` or v1 ``CustomerSession``).

    Fields one version lacks are ``None`` / empty: v1 has ``discounts`` only, v2 has ``id``,
    ``updated``, the additional costs and the loyalty cards only. ``additional_costs`` keeps
    each cost object as sent (like ``cart_items``); the totals are ``Decimal``.
    """

    integration_id: str
    profile_id: str
    state: str
    cart_items: list[dict[str, Any]]
    coupon_codes: list[str]
    referral_code: str
    total: Decimal | None
    cart_item_total: Decimal | None
    attributes: dict[str, Any]
    update_count: int | None
    id: int | None
    created: str | None
    updated: str | None
    application_id: int | None
    store_integration_id: str | None
    evaluable_campaign_ids: list[int]
    loyalty_cards: list[str]
    experiment_variant_allocations: list[dict[str, Any]]
    additional_costs: dict[str, dict[str, Any]]
    identifiers: list[str]
    first_session: bool | None
    additional_cost_total: Decimal | None
    cart_item_additional_cost_total: Decimal | None
    discounts: dict[str, Decimal]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> CustomerSession:
        raw = _obj(data)
        codes = raw.get("couponCodes")
        if isinstance(codes, list):
            coupon_codes = [c for c in codes if isinstance(c, str)]
        else:  # v1 sessions carry a single ``coupon``
            coupon_codes = (
                [raw["coupon"]] if isinstance(raw.get("coupon"), str) and raw["coupon"] else []
            )
        referral = raw.get("referralCode", raw.get("referral"))
        return cls(
            integration_id=to_str(raw.get("integrationId")) or "",
            profile_id=to_str(raw.get("profileId")) or "",
            state=to_str(raw.get("state")) or "",
            cart_items=_objs(raw.get("cartItems")),
            coupon_codes=coupon_codes,
            referral_code=to_str(referral) or "",
            total=to_decimal(raw.get("total")),
            cart_item_total=to_decimal(raw.get("cartItemTotal")),
            attributes=to_dict(raw.get("attributes")) or {},
            update_count=to_int(raw.get("updateCount")),
            id=to_int(raw.get("id")),
            created=to_str(raw.get("created")),
            updated=to_str(raw.get("updated")),
            application_id=to_int(raw.get("applicationId")),
            store_integration_id=to_str(raw.get("storeIntegrationId")),
            evaluable_campaign_ids=_ints(raw.get("evaluableCampaignIds")),
            loyalty_cards=_strs(raw.get("loyaltyCards")),
            experiment_variant_allocations=_objs(raw.get("experimentVariantAllocations")),
            additional_costs=_obj_map(raw.get("additionalCosts")),
            identifiers=_strs(raw.get("identifiers")),
            first_session=to_bool(raw.get("firstSession")),
            additional_cost_total=to_decimal(raw.get("additionalCostTotal")),
            cart_item_additional_cost_total=to_decimal(raw.get("cartItemAdditionalCostTotal")),
            discounts=_money_map(raw.get("discounts")),
            raw=raw,
        )


@dataclass(frozen=True)
class Coupon:
    """A coupon (``Coupon``; inventory coupons add ``state`` and ``profile_redemption_count``).

    The discount limit, counter and remainder are money (``Decimal``); ``reservation_counter``
    is a ``number`` in the spec, so ``Decimal`` too. ``limits`` keeps each ``LimitConfig``.
    """

    id: int | None
    value: str
    campaign_id: int | None
    usage_limit: int | None
    usage_counter: int | None
    start_date: str | None
    expiry_date: str | None
    recipient_integration_id: str | None
    is_reservation_mandatory: bool | None
    implicitly_reserved: bool | None
    state: str | None
    profile_redemption_count: int | None
    attributes: dict[str, Any]
    created: str | None
    discount_limit: Decimal | None
    reservation_limit: int | None
    limits: list[dict[str, Any]]
    discount_counter: Decimal | None
    discount_remainder: Decimal | None
    reservation_counter: Decimal | None
    referral_id: int | None
    import_id: int | None
    reservation: bool | None
    batch_id: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Coupon:
        raw = _obj(data)
        return cls(
            id=to_int(raw.get("id")),
            value=to_str(raw.get("value")) or "",
            campaign_id=to_int(raw.get("campaignId")),
            usage_limit=to_int(raw.get("usageLimit")),
            usage_counter=to_int(raw.get("usageCounter")),
            start_date=to_str(raw.get("startDate")),
            expiry_date=to_str(raw.get("expiryDate")),
            recipient_integration_id=to_str(raw.get("recipientIntegrationId")),
            is_reservation_mandatory=to_bool(raw.get("isReservationMandatory")),
            implicitly_reserved=to_bool(raw.get("implicitlyReserved")),
            state=to_str(raw.get("state")),
            profile_redemption_count=to_int(raw.get("profileRedemptionCount")),
            attributes=to_dict(raw.get("attributes")) or {},
            created=to_str(raw.get("created")),
            discount_limit=to_decimal(raw.get("discountLimit")),
            reservation_limit=to_int(raw.get("reservationLimit")),
            limits=_objs(raw.get("limits")),
            discount_counter=to_decimal(raw.get("discountCounter")),
            discount_remainder=to_decimal(raw.get("discountRemainder")),
            reservation_counter=to_decimal(raw.get("reservationCounter")),
            referral_id=to_int(raw.get("referralId")),
            import_id=to_int(raw.get("importId")),
            reservation=to_bool(raw.get("reservation")),
            batch_id=to_str(raw.get("batchId")),
            raw=raw,
        )


@dataclass(frozen=True)
class Referral:
    """A referral code (``Referral``; inventory referrals add ``referred_customers``)."""

    id: int | None
    code: str
    campaign_id: int | None
    advocate_profile_integration_id: str
    friend_profile_integration_id: str | None
    start_date: str | None
    expiry_date: str | None
    usage_limit: int | None
    usage_counter: int | None
    referred_customers: list[str]
    attributes: dict[str, Any]
    created: str | None
    import_id: int | None
    batch_id: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Referral:
        raw = _obj(data)
        return cls(
            id=to_int(raw.get("id")),
            code=to_str(raw.get("code")) or "",
            campaign_id=to_int(raw.get("campaignId")),
            advocate_profile_integration_id=to_str(raw.get("advocateProfileIntegrationId")) or "",
            friend_profile_integration_id=to_str(raw.get("friendProfileIntegrationId")),
            start_date=to_str(raw.get("startDate")),
            expiry_date=to_str(raw.get("expiryDate")),
            usage_limit=to_int(raw.get("usageLimit")),
            usage_counter=to_int(raw.get("usageCounter")),
            referred_customers=_strs(raw.get("referredCustomers")),
            attributes=to_dict(raw.get("attributes")) or {},
            created=to_str(raw.get("created")),
            import_id=to_int(raw.get("importId")),
            batch_id=to_str(raw.get("batchId")),
            raw=raw,
        )


def _optional(data: dict[str, Any], key: str, factory: Callable[[Any], T]) -> T | None:
    value = data.get(key)
    return factory(value) if isinstance(value, Mapping) else None


@dataclass(frozen=True)
class IntegrationStateV2:
    """Answer of the v2 session/profile updates and of returns (``IntegrationStateV2``).

    ``customer_session`` / ``customer_profile`` (and ``referral``, ``achievements``,
    ``awarded_giveaways``, ``previous_returns``...) are only present when asked for with
    ``response_content`` (or when the operation always sends them); otherwise ``None`` or
    empty. ``return_`` is the spec's ``return`` (a Python keyword). Objects the client has no
    type for (returns, giveaways, achievements, the advanced event) stay JSON dicts, like
    ``event``.
    """

    effects: list[Effect]
    created_coupons: list[Coupon]
    created_referrals: list[Referral]
    customer_session: CustomerSession | None
    customer_profile: CustomerProfile | None
    coupons: list[Coupon]
    triggered_campaigns: list[dict[str, Any]]
    rule_failure_reasons: list[dict[str, Any]]
    loyalty: dict[str, Any] | None
    event: dict[str, Any] | None
    campaign_eligibility: list[dict[str, Any]]
    awarded_giveaways: list[dict[str, Any]]
    achievements: list[dict[str, Any]]
    referral: Referral | None
    advanced_event: dict[str, Any] | None
    return_: dict[str, Any] | None
    previous_returns: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> IntegrationStateV2:
        raw = _obj(data)
        return cls(
            effects=decode_effects(
                raw.get("effects") if isinstance(raw.get("effects"), list) else []
            ),
            created_coupons=[Coupon.from_json(c) for c in _objs(raw.get("createdCoupons"))],
            created_referrals=[Referral.from_json(r) for r in _objs(raw.get("createdReferrals"))],
            customer_session=_optional(raw, "customerSession", CustomerSession.from_json),
            customer_profile=_optional(raw, "customerProfile", CustomerProfile.from_json),
            coupons=[Coupon.from_json(c) for c in _objs(raw.get("coupons"))],
            triggered_campaigns=_objs(raw.get("triggeredCampaigns")),
            rule_failure_reasons=_objs(raw.get("ruleFailureReasons")),
            loyalty=to_dict(raw.get("loyalty")),
            event=to_dict(raw.get("event")),
            campaign_eligibility=_objs(raw.get("campaignEligibility")),
            awarded_giveaways=_objs(raw.get("awardedGiveaways")),
            achievements=_objs(raw.get("achievements")),
            referral=_optional(raw, "referral", Referral.from_json),
            advanced_event=to_dict(raw.get("advancedEvent")),
            return_=to_dict(raw.get("return")),
            previous_returns=_objs(raw.get("previousReturns")),
            raw=raw,
        )


@dataclass(frozen=True)
class CustomerSessionState:
    """Answer of ``get_customer_session``: the session and its still-valid effects."""

    customer_session: CustomerSession | None
    effects: list[Effect]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> CustomerSessionState:
        raw = _obj(data)
        return cls(
            customer_session=_optional(raw, "customerSession", CustomerSession.from_json),
            effects=decode_effects(
                raw.get("effects") if isinstance(raw.get("effects"), list) else []
            ),
            raw=raw,
        )


@dataclass(frozen=True)
class ReopenSessionResult:
    """Answer of ``reopen_customer_session``: the rollback effects."""

    effects: list[Effect]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> ReopenSessionResult:
        raw = _obj(data)
        effects = raw.get("effects")
        return cls(effects=decode_effects(effects if isinstance(effects, list) else []), raw=raw)


@dataclass(frozen=True)
class IntegrationStateV1:
    """Answer of the v1 operations (``IntegrationState``).

    ``effects`` are decoded from ``event.effects``, whether they arrive as v1 positional
    arrays or as v2-style objects.
    """

    session: CustomerSession | None
    profile: CustomerProfile | None
    event: dict[str, Any] | None
    loyalty: dict[str, Any] | None
    coupon: Coupon | None
    effects: list[Effect]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> IntegrationStateV1:
        raw = _obj(data)
        event = to_dict(raw.get("event"))
        effects = (event or {}).get("effects")
        return cls(
            session=_optional(raw, "session", CustomerSession.from_json),
            profile=_optional(raw, "profile", CustomerProfile.from_json),
            event=event,
            loyalty=to_dict(raw.get("loyalty")),
            coupon=_optional(raw, "coupon", Coupon.from_json),
            effects=decode_effects(effects if isinstance(effects, list) else []),
            raw=raw,
        )


@dataclass(frozen=True)
class MultipleProfilesResult:
    """Answer of ``update_customer_profiles_v2``: empty when ``silent`` (the API sends 204)."""

    integration_states: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def customer_profiles(self) -> list[CustomerProfile]:
        """The updated profiles (only with ``silent=False``)."""
        return [
            CustomerProfile.from_json(state["customerProfile"])
            for state in self.integration_states
            if isinstance(state.get("customerProfile"), Mapping)
        ]

    @classmethod
    def from_json(cls, data: Any) -> MultipleProfilesResult:
        raw = _obj(data)
        return cls(integration_states=_objs(raw.get("integrationStates")), raw=raw)


@dataclass(frozen=True)
class Page(Generic[T]):
    """A ``{totalResultSize, data}`` list answer; ``data`` holds typed items."""

    total_result_size: int
    data: list[T]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @staticmethod
    def decode(data: Any, item: Callable[[Any], T]) -> Page[T]:
        """Decode a page whose ``data`` items are decoded with ``item``."""
        raw = _obj(data)
        items = [item(obj) for obj in _objs(raw.get("data"))]
        total = to_int(raw.get("totalResultSize"))
        return Page(total_result_size=len(items) if total is None else total, data=items, raw=raw)

    @staticmethod
    def of_profiles(data: Any) -> Page[CustomerProfile]:
        """A page of customer profiles."""
        return Page.decode(data, CustomerProfile.from_json)

    @staticmethod
    def of_coupons(data: Any) -> Page[Coupon]:
        """A page of coupons."""
        return Page.decode(data, Coupon.from_json)


@dataclass(frozen=True)
class CustomerInventory:
    """Answer of ``get_customer_inventory``; each part is present only when requested."""

    profile: CustomerProfile | None
    coupons: list[Coupon]
    referrals: list[Referral]
    loyalty: dict[str, Any] | None
    giveaways: list[dict[str, Any]]
    achievements: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> CustomerInventory:
        raw = _obj(data)
        return cls(
            profile=_optional(raw, "profile", CustomerProfile.from_json),
            coupons=[Coupon.from_json(c) for c in _objs(raw.get("coupons"))],
            referrals=[Referral.from_json(r) for r in _objs(raw.get("referrals"))],
            loyalty=to_dict(raw.get("loyalty")),
            giveaways=_objs(raw.get("giveaways")),
            achievements=_objs(raw.get("achievements")),
            raw=raw,
        )
