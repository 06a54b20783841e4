"""The Integration API's campaign list: ``GET /v1/integration/campaigns``.

Lists the enabled campaigns of the Application (the only state the schema allows), in id
order, with the filters of the API: ``campaignIds``, start/end windows, ``audienceId`` (the
campaigns whose conditions name that audience: its ``linkedAudienceIds``) and ``storeId``
(the emulator has no stores, so no campaign is linked to one). ``rules`` holds the rule's
customer-facing texts: its name and the campaign description.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django_talon.emulator.errors import bad_request
from django_talon.emulator.models import Campaign
from django_talon.emulator.store.render import RenderMixin
from django_talon.emulator.util import isoformat, parse_datetime, utcnow

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def _int_param(query: dict[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer", parameter=name) from None


def _linked_audiences(campaign: Campaign) -> list[int]:
    return sorted(
        {int(c["audienceId"]) for c in campaign.conditions if c["type"] == "audienceMember"}
    )


def _in_window(moment: datetime | None, after: datetime | None, before: datetime | None) -> bool:
    """Whether a campaign start/end passes an after/before filter (unset: only when no
    filter asks for it)."""
    if after is None and before is None:
        return True
    if moment is None:
        return False
    return (after is None or moment >= after) and (before is None or moment <= before)


class CampaignListMixin(RenderMixin):
    """``GET /v1/integration/campaigns``."""

    def integration_campaigns(self, query: dict[str, str]) -> dict[str, Any]:
        """One page of the enabled campaigns, filtered as asked."""
        size = _int_param(query, "pageSize")
        size = DEFAULT_PAGE_SIZE if size is None else size
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise bad_request(f"pageSize must be 1..{MAX_PAGE_SIZE}", parameter="pageSize")
        skip = _int_param(query, "skip") or 0
        if skip < 0:
            raise bad_request("skip must be >= 0", parameter="skip")
        ids: set[int] | None = None
        if query.get("campaignIds"):  # comma-separated (style form, explode false)
            try:
                ids = {int(part) for part in query["campaignIds"].split(",")}
            except ValueError:
                raise bad_request(
                    "campaignIds must be integers separated by commas", parameter="campaignIds"
                ) from None
        moments = {
            name: parse_datetime(query[name], name) if query.get(name) else None
            for name in ("startAfter", "startBefore", "endAfter", "endBefore")
        }
        audience = _int_param(query, "audienceId")
        store = _int_param(query, "storeId")
        with self.lock:
            now = utcnow()
            selected = [
                c
                for c in self.campaigns
                if c.state == "enabled"
                and (ids is None or c.id in ids)
                and _in_window(c.start_time, moments["startAfter"], moments["startBefore"])
                and _in_window(c.end_time, moments["endAfter"], moments["endBefore"])
                and (audience is None or audience in _linked_audiences(c))
                and store is None
            ]
            page = selected[skip : skip + size]
            return {
                "hasMore": skip + size < len(selected),
                "data": [self._integration_campaign(c, now) for c in page],
            }

    def _integration_campaign(self, campaign: Campaign, now: datetime) -> dict[str, Any]:
        """``IntegrationCampaign`` of the spec."""
        full = self._campaign_api(campaign, now)
        data: dict[str, Any] = {
            "id": campaign.id,
            "applicationId": self.application_id,
            "name": campaign.name,
            "description": campaign.description,
            "attributes": {},
            "state": "enabled",
            "tags": list(campaign.tags),
            "features": list(full.get("features", [])),
            "rules": [
                {
                    "title": campaign.rule_name or campaign.name,
                    "displayName": campaign.rule_name or campaign.name,
                    "displayDescription": campaign.description,
                }
            ],
            "linkedStoreIds": [],
            "linkedAudienceIds": _linked_audiences(campaign),
        }
        if campaign.start_time is not None:
            data["startTime"] = isoformat(campaign.start_time)
        if campaign.end_time is not None:
            data["endTime"] = isoformat(campaign.end_time)
        return data
