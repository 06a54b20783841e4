"""Typed answers of the audience, catalog, campaign-list, event and multi-referral operations.

The same rules as :mod:`.models` (which holds the session and profile answers and would pass
600 lines with these): each object keeps ``.raw``, fields are read tolerantly (a missing or
odd value becomes ``None`` or an empty container), money is ``Decimal``, timestamps stay
RFC 3339 strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .effects import Effect, decode_effects
from .effects.convert import to_bool, to_decimal, to_dict, to_int, to_str
from .models import Coupon, CustomerProfile, Referral

__all__ = [
    "Audience",
    "BestPriorPrice",
    "Catalog",
    "EventV3",
    "IntegrationCampaign",
    "IntegrationCampaignPage",
    "IntegrationEventResult",
    "ReferralBatch",
]


def _obj(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _objs(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [dict(v) for v in value if isinstance(v, Mapping)]


def _ints(value: Any) -> list[int]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, int) and not isinstance(v, bool)]


def _strs(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]


def _effects(value: Any) -> list[Effect]:
    return decode_effects(value if isinstance(value, list) else [])


@dataclass(frozen=True)
class Audience:
    """An audience (``Audience``): answer of ``create_audience_v2`` / ``update_audience_v2``."""

    id: int | None
    name: str
    description: str | None
    integration: str | None
    integration_id: str | None
    created: str | None
    last_update: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Audience:
        raw = _obj(data)
        return cls(
            id=to_int(raw.get("id")),
            name=to_str(raw.get("name")) or "",
            description=to_str(raw.get("description")),
            integration=to_str(raw.get("integration")),
            integration_id=to_str(raw.get("integrationId")),
            created=to_str(raw.get("created")),
            last_update=to_str(raw.get("lastUpdate")),
            raw=raw,
        )


@dataclass(frozen=True)
class Catalog:
    """A cart item catalog (``Catalog``): answer of ``sync_catalog``.

    ``version`` grows with every sync that changed something; pass it back as ``version``
    to make the next sync fail instead of applying to a catalog someone else changed.
    """

    id: int | None
    name: str
    description: str
    version: int | None
    modified: str | None
    subscribed_applications_ids: list[int]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Catalog:
        raw = _obj(data)
        return cls(
            id=to_int(raw.get("id")),
            name=to_str(raw.get("name")) or "",
            description=to_str(raw.get("description")) or "",
            version=to_int(raw.get("version")),
            modified=to_str(raw.get("modified")),
            subscribed_applications_ids=_ints(raw.get("subscribedApplicationsIds")),
            raw=raw,
        )


@dataclass(frozen=True)
class BestPriorPrice:
    """The lowest price of one SKU within the asked timeframe (``BestPriorPrice``)."""

    id: int | None
    sku: str
    price: Decimal | None
    observed_at: str | None
    context_ids: list[str]
    influencing_campaign_ids: list[int]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> BestPriorPrice:
        raw = _obj(data)
        metadata = _obj(raw.get("metadata"))
        return cls(
            id=to_int(raw.get("id")),
            sku=to_str(raw.get("sku")) or "",
            price=to_decimal(raw.get("price")),
            observed_at=to_str(raw.get("observedAt")),
            context_ids=_strs(raw.get("contextIds")),
            influencing_campaign_ids=[
                cid
                for cid in (
                    to_int(d.get("campaignId"))
                    for d in _objs(metadata.get("influencingCampaignDetails"))
                )
                if cid is not None
            ],
            raw=raw,
        )


@dataclass(frozen=True)
class IntegrationCampaign:
    """A running campaign as the Integration API lists it (``IntegrationCampaign``)."""

    id: int | None
    name: str
    description: str | None
    start_time: str | None
    end_time: str | None
    state: str
    tags: list[str]
    features: list[str]
    attributes: dict[str, Any]
    rules: list[dict[str, Any]]
    linked_audience_ids: list[int]
    linked_store_ids: list[int]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> IntegrationCampaign:
        raw = _obj(data)
        return cls(
            id=to_int(raw.get("id")),
            name=to_str(raw.get("name")) or "",
            description=to_str(raw.get("description")),
            start_time=to_str(raw.get("startTime")),
            end_time=to_str(raw.get("endTime")),
            state=to_str(raw.get("state")) or "",
            tags=_strs(raw.get("tags")),
            features=_strs(raw.get("features")),
            attributes=to_dict(raw.get("attributes")) or {},
            rules=_objs(raw.get("rules")),
            linked_audience_ids=_ints(raw.get("linkedAudienceIds")),
            linked_store_ids=_ints(raw.get("linkedStoreIds")),
            raw=raw,
        )


@dataclass(frozen=True)
class IntegrationCampaignPage:
    """One page of ``integration_get_all_campaigns``; ``has_more`` says whether to ask on."""

    has_more: bool
    data: list[IntegrationCampaign]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> IntegrationCampaignPage:
        raw = _obj(data)
        return cls(
            has_more=bool(to_bool(raw.get("hasMore"))),
            data=[IntegrationCampaign.from_json(c) for c in _objs(raw.get("data"))],
            raw=raw,
        )


@dataclass(frozen=True)
class EventV3:
    """An advanced event (``EventV3``): answer of ``get_event_v3``, part of ``track_event_v3``.

    ``effects`` are decoded into the client's typed effect objects.
    """

    id: int | None
    integration_id: str
    type: str
    profile_id: str | None
    attributes: dict[str, Any]
    connected_session_id: str | None
    created: str | None
    effects: list[Effect]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> EventV3:
        raw = _obj(data)
        return cls(
            id=to_int(raw.get("id")),
            integration_id=to_str(raw.get("integrationId")) or "",
            type=to_str(raw.get("type")) or "",
            profile_id=to_str(raw.get("profileId")),
            attributes=to_dict(raw.get("attributes")) or {},
            connected_session_id=to_str(raw.get("connectedSessionId")),
            created=to_str(raw.get("created")),
            effects=_effects(raw.get("effects")),
            raw=raw,
        )


@dataclass(frozen=True)
class IntegrationEventResult:
    """Answer of ``track_event_v2`` / ``track_event_v3`` (``IntegrationEventV2/V3Response``).

    Empty (``effects == []``, ``raw == {}``) when the call was ``silent`` and the API sent
    204. ``event`` is the v2 event, ``advanced_event`` the v3 one (each only when asked for
    with ``response_content``).
    """

    effects: list[Effect]
    created_coupons: list[Coupon]
    created_referrals: list[Referral]
    customer_profile: CustomerProfile | None
    triggered_campaigns: list[dict[str, Any]]
    rule_failure_reasons: list[dict[str, Any]]
    loyalty: dict[str, Any] | None
    event: dict[str, Any] | None
    advanced_event: EventV3 | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> IntegrationEventResult:
        raw = _obj(data)
        profile = raw.get("customerProfile")
        advanced = raw.get("advancedEvent")
        return cls(
            effects=_effects(raw.get("effects")),
            created_coupons=[Coupon.from_json(c) for c in _objs(raw.get("createdCoupons"))],
            created_referrals=[Referral.from_json(r) for r in _objs(raw.get("createdReferrals"))],
            customer_profile=CustomerProfile.from_json(profile)
            if isinstance(profile, Mapping)
            else None,
            triggered_campaigns=_objs(raw.get("triggeredCampaigns")),
            rule_failure_reasons=_objs(raw.get("ruleFailureReasons")),
            loyalty=to_dict(raw.get("loyalty")),
            event=to_dict(raw.get("event")),
            advanced_event=EventV3.from_json(advanced) if isinstance(advanced, Mapping) else None,
            raw=raw,
        )


@dataclass(frozen=True)
class ReferralBatch:
    """Answer of ``create_referrals_for_multiple_advocates``: empty when ``silent`` (204)."""

    total_result_size: int
    data: list[Referral]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> ReferralBatch:
        raw = _obj(data)
        referrals = [Referral.from_json(r) for r in _objs(raw.get("data"))]
        total = to_int(raw.get("totalResultSize"))
        return cls(
            total_result_size=len(referrals) if total is None else total,
            data=referrals,
            raw=raw,
        )
