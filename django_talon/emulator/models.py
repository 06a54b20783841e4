"""In-memory records the emulator keeps: campaigns, coupons, referrals, profiles, sessions.

Plain dataclasses with ``to_api`` renderers that produce exactly the shapes of the official
OpenAPI documents (``Coupon``, ``Referral``, ``CustomerProfile``, ``CustomerSessionV2`` ...).
All mutation goes through :mod:`django_talon.emulator.store`, under its lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django_talon.emulator.util import isoformat, money

ACCOUNT_ID = 1


def item_additional_cost_total(items: list[dict[str, Any]]) -> float:
    """``cartItemAdditionalCostTotal``: every item's additional costs, per unit x quantity.

    An item's ``additionalCosts`` price is per unit (as its ``price`` is), so two units with
    a 2.00 handling cost add 4.00.
    """
    total = 0.0
    for item in items:
        costs = item.get("additionalCosts")
        if costs:
            unit = sum(float(c.get("price", 0)) for c in costs.values())
            total += unit * int(item["quantity"])
    return money(total)


@dataclass
class Campaign:
    """One campaign with one rule: optional coupon/referral trigger, conditions, effects."""

    id: int
    name: str
    trigger: str | None = None  # None, "coupon" or "referral"
    state: str = "enabled"
    description: str = ""
    rule_name: str = ""
    events: list[str] = field(default_factory=lambda: ["talon_session_updated"])
    conditions: list[dict[str, Any]] = field(default_factory=list)
    effects: list[dict[str, Any]] = field(default_factory=list)
    start_time: datetime | None = None
    end_time: datetime | None = None
    redemption_limit: int = 0  # 0 = unlimited; counts closed sessions that used the campaign
    tags: list[str] = field(default_factory=list)
    created: datetime | None = None
    #: (the ``effects`` list it was built from, the effects prepared for evaluation:
    #: engine/effects.py), built on first use and again when ``effects`` is replaced; not an
    #: init field, so every copy of a campaign (each store reset) prepares its own
    plan: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def ruleset_id(self) -> int:
        """Stable fake ruleset id derived from the campaign id."""
        return self.id * 100 + 1

    def running(self, now: datetime) -> bool:
        """Enabled and inside its optional start/end window."""
        if self.state != "enabled":
            return False
        if self.start_time is not None and now < self.start_time:
            return False
        return not (self.end_time is not None and now >= self.end_time)


@dataclass
class Coupon:
    id: int
    value: str
    campaign_id: int
    created: datetime
    usage_limit: int = 0
    profile_limit: int = 0
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    recipient: str | None = None
    reservation_mandatory: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)
    usage_counter: int = 0
    profile_redemptions: dict[str, int] = field(default_factory=dict)
    reserved_for: list[str] = field(default_factory=list)

    def to_api(self, *, legacy: bool = False) -> dict[str, Any]:
        """``Coupon`` (current spec) or the V2.0/V2.4 ``Coupon`` when ``legacy``."""
        data: dict[str, Any] = {
            "id": self.id,
            "created": isoformat(self.created),
            "campaignId": self.campaign_id,
            "value": self.value,
            "usageLimit": self.usage_limit,
            "usageCounter": self.usage_counter,
            "attributes": dict(self.attributes),
        }
        if self.start_date is not None:
            data["startDate"] = isoformat(self.start_date)
        if self.expiry_date is not None:
            data["expiryDate"] = isoformat(self.expiry_date)
        if self.recipient:
            data["recipientIntegrationId"] = self.recipient
        if legacy:
            data["reservation"] = not self.reservation_mandatory
            return data
        data["reservationCounter"] = len(self.reserved_for)
        data["reservation"] = self.recipient is None
        data["isReservationMandatory"] = self.reservation_mandatory
        data["implicitlyReserved"] = False
        if self.profile_limit:
            data["limits"] = [
                {"action": "redeemCoupon", "limit": self.profile_limit, "entities": ["Profile"]}
            ]
        return data


@dataclass
class Referral:
    id: int
    code: str
    campaign_id: int
    advocate: str
    created: datetime
    friend: str | None = None
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    usage_limit: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    usage_counter: int = 0
    referred: list[str] = field(default_factory=list)

    def to_api(self, *, inventory: bool = False) -> dict[str, Any]:
        """``Referral`` (or ``InventoryReferral`` with ``referredCustomers``)."""
        data: dict[str, Any] = {
            "id": self.id,
            "created": isoformat(self.created),
            "campaignId": self.campaign_id,
            "advocateProfileIntegrationId": self.advocate,
            "code": self.code,
            "usageCounter": self.usage_counter,
            "usageLimit": self.usage_limit,
            "attributes": dict(self.attributes),
        }
        if self.friend:
            data["friendProfileIntegrationId"] = self.friend
        if self.start_date is not None:
            data["startDate"] = isoformat(self.start_date)
        if self.expiry_date is not None:
            data["expiryDate"] = isoformat(self.expiry_date)
        if inventory:
            data["referredCustomers"] = list(self.referred)
        return data


@dataclass
class Profile:
    id: int
    integration_id: str
    created: datetime
    last_activity: datetime
    attributes: dict[str, Any] = field(default_factory=dict)
    audiences: list[int] = field(default_factory=list)
    closed_sessions: int = 0
    total_sales: float = 0.0
    loyalty: dict[int, float] = field(default_factory=dict)  # program id -> confirmed points

    def to_api(self, audience_names: dict[int, str], *, legacy: bool = False) -> dict[str, Any]:
        """``CustomerProfile`` of the current spec (or V2.4 when ``legacy``)."""
        data: dict[str, Any] = {
            "integrationId": self.integration_id,
            "created": isoformat(self.created),
            "attributes": dict(self.attributes),
            "accountId": ACCOUNT_ID,
            "closedSessions": self.closed_sessions,
            "totalSales": money(self.total_sales),
            "audienceMemberships": [
                {
                    "id": audience_id,
                    "name": audience_names.get(audience_id, f"Audience {audience_id}"),
                }
                for audience_id in self.audiences
            ],
            "lastActivity": isoformat(self.last_activity),
        }
        if not legacy:
            data["id"] = self.id
            data["sandbox"] = True
        return data


@dataclass
class Redemption:
    """What closing a session consumed, kept so cancel/reopen/returns can roll it back."""

    coupon_values: list[str] = field(default_factory=list)
    referral_codes: list[str] = field(default_factory=list)
    campaign_ids: list[int] = field(default_factory=list)
    effects: list[dict[str, Any]] = field(default_factory=list)  # what is still booked
    total: float = 0.0
    profile_id: str = ""
    #: the effects as booked at close, kept by the first return (returns lower ``effects``)
    booked: list[dict[str, Any]] | None = None


@dataclass
class Session:
    id: int
    integration_id: str
    created: datetime
    updated: datetime
    profile_id: str = ""
    store_id: str | None = None
    coupon_codes: list[str] = field(default_factory=list)
    referral_code: str = ""
    loyalty_cards: list[str] = field(default_factory=list)
    state: str = "open"
    cart_items: list[dict[str, Any]] = field(default_factory=list)
    additional_costs: dict[str, dict[str, Any]] = field(default_factory=dict)
    identifiers: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    first_session: bool = True
    update_count: int = 0
    effects: list[dict[str, Any]] = field(default_factory=list)
    redemption: Redemption | None = None
    returns: list[dict[str, Any]] = field(default_factory=list)
    returned: dict[int, int] = field(default_factory=dict)  # cart position -> returned units

    def clone(self) -> Session:
        """A copy safe to modify and commit or throw away.

        Containers are copied one level deep: cart item and effect dicts are never mutated in
        place (updates replace them), so sharing them is safe and much cheaper than deepcopy.
        The redemption is shared: only cancel/reopen/returns change it, on the stored session.
        """
        copied = object.__new__(Session)  # a field-by-field copy: dataclasses.replace's
        copied.__dict__.update(self.__dict__)  # __init__ round trip cost more than the rest
        copied.coupon_codes = list(self.coupon_codes)
        copied.loyalty_cards = list(self.loyalty_cards)
        copied.cart_items = list(self.cart_items)
        copied.additional_costs = dict(self.additional_costs)
        copied.identifiers = list(self.identifiers)
        copied.attributes = dict(self.attributes)
        copied.effects = list(self.effects)
        copied.returns = list(self.returns)
        copied.returned = dict(self.returned)
        return copied

    def cart_item_total(self) -> float:
        return money(sum(float(i["price"]) * int(i["quantity"]) for i in self.cart_items))

    def additional_cost_total(self) -> float:
        return money(sum(float(c.get("price", 0)) for c in self.additional_costs.values()))

    def cart_item_additional_cost_total(self) -> float:
        """The items' own additional costs: each cost's price per unit, times the quantity."""
        return item_additional_cost_total(self.cart_items)

    def to_api(self, application_id: int, cart_total: float | None = None) -> dict[str, Any]:
        """``CustomerSessionV2``.

        ``cart_total``: the cart item total when the caller has it for exactly these items
        already (a session update's evaluation summed this very list: the same sum, so
        it is not summed again); None: summed here.
        """
        items: list[dict[str, Any]] = []
        # one walk over the cart renders the items and collects both of their totals, as
        # cart_item_total() and cart_item_additional_cost_total() add them up (same values,
        # same order and sum() for the cart: same floats, also where sum() compensates).
        # Written for speed (issue 13, once per item of every answer): ``dict.copy``, and
        # ``float()``/``int()`` called only on a value that is not a float/int already.
        returned_units = self.returned
        lines: list[float] = []
        add_item, add_line = items.append, lines.append
        item_costs = 0.0
        for position, item in enumerate(self.cart_items):
            rendered = item.copy()
            rendered["position"] = position
            quantity = item["quantity"]
            if type(quantity) is not int:
                quantity = int(quantity)
            if returned_units:
                returned = returned_units.get(position, 0)
                rendered["returnedQuantity"] = returned
                rendered["remainingQuantity"] = quantity - returned
            add_item(rendered)
            if cart_total is None:
                price = item["price"]
                add_line((price if type(price) is float else float(price)) * quantity)
            if "additionalCosts" in item and item["additionalCosts"]:
                costs = item["additionalCosts"]
                item_costs += sum(float(c.get("price", 0)) for c in costs.values()) * quantity
        if cart_total is None:
            cart_total = money(sum(lines))
        cost_total = self.additional_cost_total() if self.additional_costs else 0.0
        item_cost_total = money(item_costs) if item_costs else 0.0
        data: dict[str, Any] = {
            "id": self.id,
            "integrationId": self.integration_id,
            "created": isoformat(self.created),
            "applicationId": application_id,
            "profileId": self.profile_id,
            "couponCodes": list(self.coupon_codes),
            "referralCode": self.referral_code,
            "loyaltyCards": list(self.loyalty_cards),
            "state": self.state,
            "cartItems": items,
            "additionalCosts": (
                {k: dict(v) for k, v in self.additional_costs.items()}
                if self.additional_costs
                else {}
            ),
            "identifiers": list(self.identifiers),
            "attributes": dict(self.attributes),
            "firstSession": self.first_session,
            "updateCount": self.update_count,
            "total": money(cart_total + cost_total + item_cost_total),
            "cartItemTotal": cart_total,
            "additionalCostTotal": cost_total,
            "cartItemAdditionalCostTotal": item_cost_total,
            "updated": isoformat(self.updated),
        }
        if self.store_id:
            data["storeIntegrationId"] = self.store_id
        return data
