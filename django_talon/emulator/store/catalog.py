"""Cart item catalogs and the price history behind the best prior price.

``PUT /v1/catalogs/{catalogId}/sync`` applies ``ADD``, ``PATCH``, ``PATCH_MANY``, ``REMOVE``,
``REMOVE_MANY`` and ``ADD_PRICE_ADJUSTMENT`` actions the way the API documents them: one
action type per request, each SKU once, all-or-nothing (a failing action leaves the catalog
as it was), the catalog ``version`` grows with every sync that changed something and a
stale ``version`` is refused. The emulator has no Management API to create catalogs, so a
catalog exists from its first sync on.

Item attributes are visible to the rule engine (the ``catalogAttributeEquals`` condition:
some cart item whose SKU is in a catalog has that attribute value) through
:attr:`CatalogMixin.catalog_view`, handed to every session evaluation.

``POST /v1/best_prior_price`` answers from a price history fed by every price a sync sets
and by every non-dry session update (each cart item's unit price after its per-item
discounts, with the campaigns that lowered it). The history keeps at most
:data:`MAX_OBSERVATIONS` prices per SKU, so a long-running emulator keeps constant memory.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django_talon.emulator.engine import EvalContext
from django_talon.emulator.errors import bad_request
from django_talon.emulator.models import ACCOUNT_ID, Profile, Session
from django_talon.emulator.store.parsing import MAX_BATCH
from django_talon.emulator.store.prices import PriceHistory
from django_talon.emulator.store.sessions import SessionsMixin
from django_talon.emulator.util import (
    is_number,
    isoformat,
    parse_datetime,
    query_bool,
    utcnow,
    want_bool,
    want_int,
    want_list,
    want_number,
    want_object,
    want_str,
)

ACTION_TYPES = ("ADD", "PATCH", "PATCH_MANY", "REMOVE", "REMOVE_MANY", "ADD_PRICE_ADJUSTMENT")
FILTER_OPS = ("EQ", "LT", "LE", "GT", "GE", "IN")


@dataclass
class CatalogItem:
    """One SKU of a catalog."""

    id: int
    sku: str
    created: datetime
    price: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    product: str | None = None
    adjustments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Catalog:
    """A cart item catalog: its items by SKU and a version that grows with each change."""

    id: int
    created: datetime
    modified: datetime
    version: int = 1
    items: dict[str, CatalogItem] = field(default_factory=dict)

    def to_api(self, application_id: int) -> dict[str, Any]:
        """``Catalog`` of the spec."""
        return {
            "id": self.id,
            "created": isoformat(self.created),
            "accountId": ACCOUNT_ID,
            "modified": isoformat(self.modified),
            "name": f"catalog_{self.id}",
            "description": f"Cart item catalog {self.id}",
            "subscribedApplicationsIds": [application_id],
            "version": self.version,
            "createdBy": 1,
        }


def _matches(item: CatalogItem, filters: list[dict[str, Any]]) -> bool:
    """Whether an item passes every filter (joined by AND; no filters select everything)."""
    for spec in filters:
        name, op, wanted = spec["attr"], spec["op"], spec["value"]
        value = item.price if name == "price" else item.attributes.get(name)
        if op == "EQ":
            ok = value == wanted
        elif op == "IN":
            ok = value in wanted
        elif not (is_number(value) and is_number(wanted)):
            ok = False
        else:
            ok = {
                "LT": value < wanted,
                "LE": value <= wanted,
                "GT": value > wanted,
                "GE": value >= wanted,
            }[op]
        if not ok:
            return False
    return True


def _parse_filters(payload: dict[str, Any], pointer: str) -> list[dict[str, Any]]:
    filters = want_list(payload.get("filters", []), f"{pointer}/filters")
    parsed = []
    for index, raw in enumerate(filters):
        spot = f"{pointer}/filters/{index}"
        spec = want_object(raw, spot)
        want_str(spec.get("attr"), f"{spot}/attr", min_length=1)
        if spec.get("op") not in FILTER_OPS:
            raise bad_request(f"{spot}/op must be one of {', '.join(FILTER_OPS)}", pointer=spot)
        if "value" not in spec:
            raise bad_request(f"{spot}/value is required", pointer=f"{spot}/value")
        if spec["op"] == "IN":
            want_list(spec["value"], f"{spot}/value")
        parsed.append(spec)
    return parsed


def _parse_action(raw: Any, pointer: str) -> tuple[str, dict[str, Any]]:
    """(type, payload) of one action, checked; ``payload`` keeps only what is used."""
    action = want_object(raw, pointer)
    kind = action.get("type")
    if kind not in ACTION_TYPES:
        raise bad_request(
            f"{pointer}/type must be one of {', '.join(ACTION_TYPES)}", pointer=f"{pointer}/type"
        )
    where = f"{pointer}/payload"
    payload = want_object(action.get("payload"), where)
    out: dict[str, Any] = {}
    if kind in ("ADD", "PATCH", "REMOVE", "ADD_PRICE_ADJUSTMENT"):
        out["sku"] = want_str(payload.get("sku"), f"{where}/sku", min_length=1)
    if kind in ("ADD", "PATCH", "PATCH_MANY"):
        if payload.get("price") is not None:
            out["price"] = want_number(payload["price"], f"{where}/price")
        out["attributes"] = dict(want_object(payload.get("attributes", {}), f"{where}/attributes"))
        if "product" in payload:
            product = want_object(payload["product"], f"{where}/product")
            out["product"] = want_str(product.get("name"), f"{where}/product/name")
    if kind in ("PATCH_MANY", "REMOVE_MANY"):
        out["filters"] = _parse_filters(payload, where)
    if kind == "ADD":
        out["replace"] = want_bool(
            payload.get("replaceIfExists", False), f"{where}/replaceIfExists"
        )
    if kind == "PATCH":
        out["create"] = want_bool(
            payload.get("createIfNotExists", False), f"{where}/createIfNotExists"
        )
    if kind == "ADD_PRICE_ADJUSTMENT":
        out["adjustments"] = [
            dict(want_object(a, f"{where}/adjustments/{i}"))
            for i, a in enumerate(want_list(payload.get("adjustments"), f"{where}/adjustments"))
        ]
    return kind, out


def parse_sync(body: Any) -> tuple[str, list[dict[str, Any]], int | None]:
    """(action type, payloads, version) of a sync request; 400 for what the API refuses."""
    body = want_object(body, "")
    raw = want_list(body.get("actions"), "/actions", max_items=MAX_BATCH)
    if not raw:
        raise bad_request("/actions must hold at least one action", pointer="/actions")
    kinds: set[str] = set()
    payloads = []
    skus: set[str] = set()
    for index, action in enumerate(raw):
        kind, payload = _parse_action(action, f"/actions/{index}")
        kinds.add(kind)
        if len(kinds) > 1:
            raise bad_request(
                "a sync request takes one action type only", pointer=f"/actions/{index}/type"
            )
        sku = payload.get("sku")
        if sku is not None:
            if sku in skus:
                raise bad_request(
                    f"SKU {sku!r} appears twice in one sync request",
                    pointer=f"/actions/{index}/payload/sku",
                )
            skus.add(sku)
        payloads.append(payload)
    version = None
    if body.get("version") is not None:
        version = want_int(body["version"], "/version", minimum=1)
    return next(iter(kinds)), payloads, version


#: sessions whose last unchanged observation is remembered (then the memory starts again)
MAX_REMEMBERED_OBSERVATIONS = 10_000


def _same_observation(before: tuple[Any, ...], now: tuple[Any, ...]) -> bool:
    """Whether a session's observation would see exactly what its previous one saw: the same
    price history untouched since (identity and record count), the same campaign set, equal
    per-item discounts and an equal cart (an item's dicts are never changed in place)."""
    return (
        before[0] is now[0]
        and before[1] == now[1]
        and before[2] is now[2]
        and before[3] == now[3]
        and before[4] == now[4]
    )


class CatalogMixin(SessionsMixin):
    """Catalog sync, the catalog view for rules, and the price history for best prior price."""

    def reset(self, campaigns: Any = None) -> None:
        """No catalogs, an empty price history."""
        with self.lock:
            super().reset(campaigns)
            self.catalogs: dict[int, Catalog] = {}
            #: SKU -> attributes of its catalog item (the last catalog synced wins)
            self.catalog_view: dict[str, dict[str, Any]] = {}
            self.prices = PriceHistory()
            #: campaign id -> the audiences its ``audienceMember`` conditions name (computed
            #: once per campaign set: the price observation of every update asks)
            self.campaign_audiences: dict[int, frozenset[int]] = {
                c.id: frozenset(
                    int(cond["audienceId"])
                    for cond in c.conditions
                    if cond["type"] == "audienceMember"
                )
                for c in self.campaigns
            }
            #: session id -> what its last price observation saw, when it recorded nothing
            #: (:meth:`_observe_session_prices` skips an exact repeat)
            self._unchanged_observations: dict[str, tuple[Any, ...]] = {}

    # ---------------------------------------------------------------------------- rules

    def _context(
        self, session: Session, profile: Profile | None, now: datetime, event: str
    ) -> EvalContext:
        """Session evaluations see the catalog items' attributes (catalog conditions)."""
        ctx = super()._context(session, profile, now, event)
        ctx.catalog = self.catalog_view
        return ctx

    # ---------------------------------------------------------------------------- sync

    def sync_catalog(self, raw_id: str, body: Any) -> dict[str, Any]:
        """PUT /v1/catalogs/{catalogId}/sync."""
        try:
            catalog_id = int(raw_id)
        except ValueError:
            raise bad_request(
                f"catalogId must be an integer, got {raw_id!r}", parameter="catalogId"
            ) from None
        kind, payloads, version = parse_sync(body)
        with self.lock:
            now = utcnow()
            catalog = self.catalogs.get(catalog_id)
            if catalog is None:
                catalog = Catalog(id=catalog_id, created=now, modified=now)
            if version is not None and version != catalog.version:
                raise bad_request(
                    f"catalog {catalog_id} is at version {catalog.version}, not {version}",
                    pointer="/version",
                )
            items = dict(catalog.items)  # all-or-nothing: work on a copy, swap at the end
            changed = self._apply(kind, payloads, items, now)
            self.catalogs[catalog_id] = catalog
            if changed:
                for sku in changed:
                    self._observe_catalog_price(catalog.items.get(sku), items.get(sku), now)
                catalog.items = items
                catalog.version += 1
                catalog.modified = now
                self._refresh_view(changed)
            return catalog.to_api(self.application_id)

    def _apply(
        self,
        kind: str,
        payloads: list[dict[str, Any]],
        items: dict[str, CatalogItem],
        now: datetime,
    ) -> set[str]:
        """Apply the actions to ``items`` (a copy); the SKUs whose item changed."""
        changed: set[str] = set()
        for index, payload in enumerate(payloads):
            pointer = f"/actions/{index}/payload"
            if kind in ("PATCH_MANY", "REMOVE_MANY"):
                selected = [s for s, i in items.items() if _matches(i, payload["filters"])]
                for sku in selected:
                    if kind == "REMOVE_MANY":
                        del items[sku]
                    else:
                        items[sku] = self._patched(items[sku], payload)
                changed.update(selected)
                continue
            sku = payload["sku"]
            existing = items.get(sku)
            if kind == "REMOVE":
                if existing is None:
                    raise bad_request(f"no catalog item with SKU {sku!r}", pointer=f"{pointer}/sku")
                del items[sku]
            elif kind == "ADD_PRICE_ADJUSTMENT":
                if existing is None:
                    raise bad_request(f"no catalog item with SKU {sku!r}", pointer=f"{pointer}/sku")
                updated = copy.deepcopy(existing)
                updated.adjustments.extend(payload["adjustments"])
                items[sku] = updated
            elif existing is not None and (kind == "PATCH" or payload["replace"]):
                items[sku] = self._patched(existing, payload, replace=kind == "ADD")
            elif existing is not None:
                raise bad_request(
                    f"a catalog item with SKU {sku!r} exists (set replaceIfExists to replace it)",
                    pointer=f"{pointer}/sku",
                )
            elif kind == "PATCH" and not payload["create"]:
                raise bad_request(
                    f"no catalog item with SKU {sku!r} (set createIfNotExists to create it)",
                    pointer=f"{pointer}/sku",
                )
            else:
                items[sku] = CatalogItem(
                    id=self._next("catalog_item"),
                    sku=sku,
                    created=now,
                    price=payload.get("price"),
                    attributes=dict(payload["attributes"]),
                    product=payload.get("product"),
                )
            changed.add(sku)
        return changed

    @staticmethod
    def _patched(
        item: CatalogItem, payload: dict[str, Any], *, replace: bool = False
    ) -> CatalogItem:
        """A changed copy: attributes merged (ADD+replaceIfExists: replaced), price kept if
        not given."""
        updated = copy.deepcopy(item)
        if replace:
            updated.attributes = dict(payload["attributes"])
        else:
            updated.attributes.update(payload["attributes"])
        if payload.get("price") is not None:
            updated.price = payload["price"]
        if payload.get("product") is not None:
            updated.product = payload["product"]
        return updated

    def _refresh_view(self, skus: set[str]) -> None:
        for sku in skus:
            self.catalog_view.pop(sku, None)
            for catalog in sorted(self.catalogs.values(), key=lambda c: c.modified):
                item = catalog.items.get(sku)
                if item is not None:
                    self.catalog_view[sku] = item.attributes

    def _observe_catalog_price(
        self, before: CatalogItem | None, after: CatalogItem | None, now: datetime
    ) -> None:
        if after is None or after.price is None:
            return
        if before is None or before.price != after.price:
            self.prices.observe(after.sku, after.price, now, context_ids=["catalog"])

    # ---------------------------------------------------------------------------- sessions

    def update_session_v2(
        self, session_id: str, body: Any, query: dict[str, str]
    ) -> dict[str, Any]:
        """The session update, then its cart prices join the price history (non-dry)."""
        with self.lock:  # one lock for both: no other update between the two
            result = super().update_session_v2(session_id, body, query)
            if not query_bool(query, "dry"):
                session = self.sessions.get(session_id)
                if session is not None:
                    self._observe_session_prices(session, utcnow())
            return result

    def _observe_session_prices(self, session: Session, now: datetime) -> None:
        """Each cart item's unit price after its per-item discounts, and who lowered it
        (for whom: a campaign with an ``audienceMember`` condition lowers it for that
        audience only).

        Why it is written out (issue 13: it was a fifth of a session update's CPU): most
        updates repeat each SKU's last observation, which :meth:`PriceHistory.observe` would
        not record again; that check is made here first, inline, with what the item already
        gives, so a repeated price costs a few lookups and builds nothing. An update that
        repeats the session's cart and per-item discounts exactly, with nothing recorded
        anywhere since its previous observation recorded nothing, skips even those (the
        comparison of the two carts runs in C).
        """
        #: position -> campaign id -> discount on the whole line (one effect per unit)
        discounts: dict[int, dict[int, float]] = {}
        for effect in session.effects:  # (every effect the engine makes has an effectType)
            if effect["effectType"] == "setDiscountPerItem":
                props = effect["props"]
                if "scope" in props and props["scope"] == "additionalCosts":
                    continue  # off the item's own costs: its price is what it was
                position = int(props["position"])
                cid = int(effect["campaignId"])
                line = discounts.get(position)
                if line is None:  # the line's first: 0.0 + value, as line.get(cid, 0.0) + ...
                    discounts[position] = {cid: 0.0 + float(props["value"])}
                else:
                    line[cid] = line.get(cid, 0.0) + float(props["value"])
        prices, known = self.prices, self.campaign_audiences
        recorded_before = prices._next_id
        seen = (prices, recorded_before, known, discounts, session.cart_items)
        repeat = self._unchanged_observations.get(session.integration_id)
        if repeat is not None and _same_observation(repeat, seen):
            return
        self._observe_items(session, discounts, now)
        if prices._next_id == recorded_before:  # recorded nothing: a repeat would not either
            if len(self._unchanged_observations) >= MAX_REMEMBERED_OBSERVATIONS:
                self._unchanged_observations.clear()
            self._unchanged_observations[session.integration_id] = seen
        else:
            self._unchanged_observations.pop(session.integration_id, None)

    def _observe_items(
        self, session: Session, discounts: dict[int, dict[int, float]], now: datetime
    ) -> None:
        """Each cart item's price (``discounts``: position -> campaign id -> line discount)."""
        by_sku, known = self.prices.by_sku, self.campaign_audiences
        for position, item in enumerate(session.cart_items):
            sku = item.get("sku")
            if not isinstance(sku, str) or not sku:
                continue
            found = discounts.get(position) if discounts else None
            if found and len(found) > 1:  # several campaigns lowered this line
                self._observe_discounted(session, item, found, now)
                continue
            history = by_sku.get(sku)
            last = history[-1] if history else None
            if not found:  # the usual item: its price, lowered by no campaign
                price = item["price"]
                if type(price) is not float:
                    price = float(price)
                price = price if price >= 0.0 else 0.0  # max(price, 0.0)
                if (
                    last is not None
                    and last.price == price
                    and last.audiences is None
                    and not last.campaigns
                ):
                    continue  # PriceHistory.observe would not record it again
                self.prices.observe(sku, price, now, context_ids=[session.integration_id])
                continue
            # one campaign lowered it (for its audiences only, if it names any)
            ((cid, value),) = found.items()
            per_unit = value / (int(item.get("quantity", 1)) or 1)
            price = float(item["price"]) - per_unit
            price = price if price >= 0.0 else 0.0  # max(unit, 0.0)
            audiences = known.get(cid) or None
            campaigns = ((cid, per_unit),)
            if (
                last is not None
                and last.price == price
                and (last.audiences is None) == (audiences is None)
                and last.campaigns == campaigns
            ):
                continue  # PriceHistory.observe would not record it again
            self.prices.observe(
                sku,
                price,
                now,
                context_ids=[session.integration_id],
                campaigns=list(campaigns),
                audiences=audiences,
            )

    def _observe_discounted(
        self, session: Session, item: dict[str, Any], found: dict[int, float], now: datetime
    ) -> None:
        """The price of an item several campaigns discounted (and for which audiences)."""
        quantity = int(item.get("quantity", 1)) or 1
        unit = float(item["price"]) - sum(found.values()) / quantity
        price = max(unit, 0.0)
        campaigns = tuple((cid, value / quantity) for cid, value in sorted(found.items()))
        # a price lowered by a campaign for an audience only is that audience's price
        known = self.campaign_audiences
        audiences = frozenset().union(*(known.get(cid, ()) for cid in found)) or None
        history = self.prices.by_sku.get(item["sku"])
        if history:
            last = history[-1]
            if (
                last.price == price
                and (last.audiences is None) == (audiences is None)
                and last.campaigns == campaigns
            ):
                return  # PriceHistory.observe would not record it again
        self.prices.observe(
            item["sku"],
            price,
            now,
            context_ids=[session.integration_id],
            campaigns=list(campaigns),
            audiences=audiences,
        )

    # ---------------------------------------------------------------------------- best price

    def best_prior_price(self, body: Any) -> list[dict[str, Any]]:
        """POST /v1/best_prior_price: the lowest observed price per SKU in the window."""
        body = want_object(body, "")
        skus = [
            want_str(s, f"/skus/{i}", min_length=1)
            for i, s in enumerate(want_list(body.get("skus"), "/skus", max_items=MAX_BATCH))
        ]
        if not skus:
            raise bad_request("/skus must name at least one SKU", pointer="/skus")
        timeframe = want_str(body.get("timeframe"), "/timeframe", min_length=1)
        if not timeframe.isdigit():
            raise bad_request("/timeframe must be a number of days", pointer="/timeframe")
        end = parse_datetime(body.get("timeframeEndDate"), "/timeframeEndDate")
        end_type = body.get("timeframeEndDateType")
        if end_type not in ("strict", "price", "sale"):
            raise bad_request(
                "/timeframeEndDateType must be strict, price or sale",
                pointer="/timeframeEndDateType",
            )
        target = dict(want_object(body.get("target", {"targetType": "NONE"}), "/target"))
        audience: int | None = None
        kind = target.get("targetType", "NONE")
        if kind == "AUDIENCE":
            audience = want_int(target.get("audienceID"), "/target/audienceID")
        elif kind != "NONE":
            raise bad_request("/target/targetType must be NONE or AUDIENCE", pointer="/target")
        shown = {"targetType": kind, **({"audienceID": audience} if audience is not None else {})}
        window = timedelta(days=int(timeframe))
        with self.lock:
            found = (
                self.prices.best(sku, end, window, end_type, audience)
                for sku in dict.fromkeys(skus)
            )
            return [best.to_api(shown) for best in found if best is not None]
