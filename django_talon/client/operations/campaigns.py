"""The campaign list of the Integration API: which campaigns run in the Application.

A read, so retried. Shops use it to show running promotions (name, description, the
customer-facing rule texts of ``rules``) without the Management API.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from ..answers import IntegrationCampaign, IntegrationCampaignPage
from ..errors import TalonValidationError
from ..validation import to_jsonable
from .base import OperationGroup, require_id

__all__ = ["CampaignOperations"]

#: ``pageSize`` of ``GET /v1/integration/campaigns``: 1..1000 (the API's default is 50).
MAX_PAGE_SIZE = 1000


def _moment(value: datetime | str, field: str) -> str:
    if isinstance(value, str):
        if not value:
            raise TalonValidationError("must not be empty", field=field)
        return value
    return str(to_jsonable(value, field))


class CampaignOperations(OperationGroup):
    """Operations on ``/v1/integration/campaigns``."""

    def integration_get_all_campaigns(
        self,
        *,
        page_size: int | None = None,
        skip: int | None = None,
        campaign_ids: Sequence[int] | None = None,
        start_after: datetime | str | None = None,
        start_before: datetime | str | None = None,
        end_after: datetime | str | None = None,
        end_before: datetime | str | None = None,
        store_id: int | None = None,
        audience_id: int | None = None,
    ) -> IntegrationCampaignPage:
        """One page of the Application's enabled campaigns (GET /v1/integration/campaigns).

        Filters combine with AND; ``campaign_ids`` keeps only those campaigns. Page with
        ``skip`` while ``has_more`` (or use :meth:`iter_integration_campaigns`).
        """
        query: dict[str, str] = {}
        if page_size is not None:
            if (
                isinstance(page_size, bool)
                or not isinstance(page_size, int)
                or not (1 <= page_size <= MAX_PAGE_SIZE)
            ):
                raise TalonValidationError(f"must be 1..{MAX_PAGE_SIZE}", field="page_size")
            query["pageSize"] = str(page_size)
        if skip is not None:
            if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
                raise TalonValidationError("must be an integer >= 0", field="skip")
            query["skip"] = str(skip)
        if campaign_ids is not None:
            if isinstance(campaign_ids, (str, bytes)) or not campaign_ids:
                raise TalonValidationError("must be a non-empty list of ids", field="campaign_ids")
            query["campaignIds"] = ",".join(
                str(require_id(cid, f"campaign_ids[{i}]")) for i, cid in enumerate(campaign_ids)
            )
        for name, value, field in (
            ("startAfter", start_after, "start_after"),
            ("startBefore", start_before, "start_before"),
            ("endAfter", end_after, "end_after"),
            ("endBefore", end_before, "end_before"),
        ):
            if value is not None:
                query[name] = _moment(value, field)
        if store_id is not None:
            query["storeId"] = str(require_id(store_id, "store_id"))
        if audience_id is not None:
            query["audienceId"] = str(require_id(audience_id, "audience_id"))
        data = self._send_for_object(
            "integrationGetAllCampaigns",
            "GET",
            "/v1/integration/campaigns",
            query=query,
            safe_to_retry=True,
        )
        return IntegrationCampaignPage.from_json(data)

    def iter_integration_campaigns(
        self, *, page_size: int = MAX_PAGE_SIZE, audience_id: int | None = None
    ) -> Iterator[IntegrationCampaign]:
        """Every enabled campaign, page by page (one request per ``page_size`` campaigns)."""
        skip = 0
        while True:
            page = self.integration_get_all_campaigns(
                page_size=page_size, skip=skip, audience_id=audience_id
            )
            yield from page.data
            if not page.has_more or not page.data:
                return
            skip += len(page.data)
