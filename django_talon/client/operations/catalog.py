"""Cart item catalog operations: sync catalog items, ask for an SKU's best prior price.

A sync is retried only when each of its actions gives the same catalog when applied twice
(``ADD`` with ``replaceIfExists``, ``PATCH``, ``PATCH_MANY``, ``REMOVE_MANY``); a plain
``ADD`` or a ``REMOVE`` of one SKU answers an error the second time, and a price adjustment
would be recorded twice. The best prior price is a read (a POST only to carry the query).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..answers import BestPriorPrice, Catalog
from ..errors import TalonDecodeError, TalonValidationError
from ..validation import check_batch, check_sequence_of_mappings, to_jsonable
from .base import OperationGroup, require_id, require_mapping

__all__ = ["CATALOG_ACTIONS", "CatalogOperations"]

#: The sync action types of ``CatalogAction.type``.
CATALOG_ACTIONS = frozenset(
    {"ADD", "PATCH", "PATCH_MANY", "REMOVE", "REMOVE_MANY", "ADD_PRICE_ADJUSTMENT"}
)
_NEEDS_SKU = frozenset({"ADD", "PATCH", "REMOVE", "ADD_PRICE_ADJUSTMENT"})
_FILTER_OPS = frozenset({"EQ", "LT", "LE", "GT", "GE", "IN"})
_END_DATE_TYPES = frozenset({"strict", "price", "sale"})


def _check_action(action: Mapping[str, Any], where: str) -> None:
    kind = action.get("type")
    if kind not in CATALOG_ACTIONS:
        raise TalonValidationError(
            f"must be one of {sorted(CATALOG_ACTIONS)}", field=f"{where}.type"
        )
    payload = require_mapping(action.get("payload"), f"{where}.payload")
    if kind in _NEEDS_SKU:
        sku = payload.get("sku")
        if not isinstance(sku, str) or not sku:
            raise TalonValidationError(
                f"{kind} needs a non-empty sku", field=f"{where}.payload.sku"
            )
    filters = payload.get("filters")
    if filters is not None:
        if not isinstance(filters, list):
            raise TalonValidationError("must be a list", field=f"{where}.payload.filters")
        for index, item in enumerate(filters):
            spot = f"{where}.payload.filters[{index}]"
            item = require_mapping(item, spot)
            if not isinstance(item.get("attr"), str) or item.get("op") not in _FILTER_OPS:
                raise TalonValidationError(
                    f"needs attr (a string), op (one of {sorted(_FILTER_OPS)}) and value",
                    field=spot,
                )
            if "value" not in item:
                raise TalonValidationError("needs a value", field=spot)


def _repeatable(action: Mapping[str, Any]) -> bool:
    """Whether applying the action twice leaves the catalog as applying it once does."""
    kind = action["type"]
    if kind == "ADD":
        return bool(action["payload"].get("replaceIfExists"))
    return kind in ("PATCH", "PATCH_MANY", "REMOVE_MANY")


class CatalogOperations(OperationGroup):
    """Operations on ``/v1/catalogs/{catalogId}/sync`` and ``/v1/best_prior_price``."""

    def sync_catalog(
        self,
        catalog_id: int,
        actions: Sequence[Mapping[str, Any]],
        *,
        version: int | None = None,
    ) -> Catalog:
        """Apply up to 1000 sync actions of one type to a catalog (PUT /v1/catalogs/{id}/sync).

        Each action: ``{"type": "ADD", "payload": {"sku": "...", "price": 9.5,
        "attributes": {...}, "replaceIfExists": True}}``; ``PATCH_MANY`` / ``REMOVE_MANY``
        select items with ``"filters": [{"attr": "color", "op": "EQ", "value": "red"}]``.
        ``version``: apply only if the catalog still has this version (else 400). The API
        takes one action type per request and each SKU once.
        """
        require_id(catalog_id, "catalog_id")
        items = check_batch(actions, "actions")
        if not items:
            raise TalonValidationError("must not be empty", field="actions")
        check_sequence_of_mappings(items, "actions")
        skus: set[str] = set()
        for index, action in enumerate(items):
            _check_action(action, f"actions[{index}]")
            if action["type"] != items[0]["type"]:
                raise TalonValidationError(
                    f"is {action['type']} but actions[0] is {items[0]['type']}: the API takes "
                    "one action type per sync request",
                    field=f"actions[{index}].type",
                )
            sku = action["payload"].get("sku")
            if isinstance(sku, str):
                if sku in skus:
                    raise TalonValidationError(
                        f"SKU {sku!r} appears twice; the API refuses that in one request",
                        field=f"actions[{index}].payload.sku",
                    )
                skus.add(sku)
        body: dict[str, Any] = {"actions": items}
        if version is not None:
            body["version"] = require_id(version, "version")
        data = self._send_for_object(
            "syncCatalog",
            "PUT",
            f"/v1/catalogs/{catalog_id}/sync",
            body=body,
            has_body=True,
            safe_to_retry=all(_repeatable(a) for a in items),
        )
        return Catalog.from_json(data)

    def best_prior_price(
        self,
        skus: Sequence[str],
        *,
        timeframe: int,
        timeframe_end_date: datetime | str,
        timeframe_end_date_type: str = "strict",
        audience_id: int | None = None,
    ) -> list[BestPriorPrice]:
        """The lowest price of each SKU in the ``timeframe`` days before
        ``timeframe_end_date`` (POST /v1/best_prior_price), e.g. for the EU's "lowest price
        in the last 30 days" display.

        ``timeframe_end_date_type``: ``strict`` (end at the given date), ``price`` (at the
        last price change) or ``sale`` (at the start of the current sale). ``audience_id``
        asks for the prices an audience saw. SKUs without a price in the window are absent.
        """
        sku_list = check_batch(skus, "skus")
        if not sku_list:
            raise TalonValidationError("must not be empty", field="skus")
        for index, sku in enumerate(sku_list):
            if not isinstance(sku, str) or not sku:
                raise TalonValidationError("must be a non-empty string", field=f"skus[{index}]")
        if isinstance(timeframe, bool) or not isinstance(timeframe, int) or timeframe < 1:
            raise TalonValidationError("must be a number of days >= 1", field="timeframe")
        if timeframe_end_date_type not in _END_DATE_TYPES:
            raise TalonValidationError(
                f"must be one of {sorted(_END_DATE_TYPES)}", field="timeframe_end_date_type"
            )
        body: dict[str, Any] = {
            "skus": sku_list,
            "timeframe": str(timeframe),
            "timeframeEndDate": timeframe_end_date
            if isinstance(timeframe_end_date, str)
            else to_jsonable(timeframe_end_date, "timeframe_end_date"),
            "timeframeEndDateType": timeframe_end_date_type,
            "target": {"targetType": "NONE"},
        }
        if audience_id is not None:
            body["target"] = {
                "targetType": "AUDIENCE",
                "audienceID": require_id(audience_id, "audience_id"),
            }
        reply = self._send(
            "bestPriorPrice",
            "POST",
            "/v1/best_prior_price",
            body=body,
            has_body=True,
            safe_to_retry=True,
        )
        if not isinstance(reply.body, list):
            raise TalonDecodeError(
                f"bestPriorPrice (POST {reply.path} -> {reply.status}): expected a JSON array, "
                f"got {type(reply.body).__name__}",
                method=reply.method,
                path=reply.path,
                status=reply.status,
            )
        return [BestPriorPrice.from_json(item) for item in reply.body if isinstance(item, dict)]
