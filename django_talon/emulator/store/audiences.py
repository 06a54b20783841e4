"""Audiences: create, rename, delete, empty, and set attributes on every member.

``POST /v2/audiences``, ``PUT|DELETE /v2/audiences/{id}``,
``DELETE /v2/audiences/{id}/memberships``, ``PUT /v2/audience_customers/{id}/attributes``.

The audiences of the campaign file exist from the start; created ones join them. Both live in
``campaign_set.audiences`` (id -> name), which the rest of the store already uses to check
memberships (``audiencesChanges``, ``POST /v2/customer_audiences``) and to name them in
profiles, so a created audience is usable everywhere at once, including the
``audienceMember`` condition of campaigns. Each reset starts again from the file's audiences:
the store works on a copy of the file's set.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from django_talon.emulator.campaign_file import CampaignSet
from django_talon.emulator.errors import ApiError, bad_request, not_found
from django_talon.emulator.models import ACCOUNT_ID
from django_talon.emulator.store.state import StoreState
from django_talon.emulator.util import isoformat, utcnow, want_object, want_str


def audience_id_param(raw: str) -> int:
    """The ``{audienceId}`` path segment as an integer (400 if it is not one)."""
    try:
        return int(raw)
    except ValueError:
        raise bad_request(
            f"audienceId must be an integer, got {raw!r}", parameter="audienceId"
        ) from None


class AudiencesMixin(StoreState):
    """The audience operations and the audience records behind them."""

    def reset(self, campaigns: CampaignSet | None = None) -> None:
        """Start again from the file's audiences (created ones are forgotten)."""
        with self.lock:
            if campaigns is not None or not hasattr(self, "_file_campaigns"):
                self._file_campaigns = campaigns if campaigns is not None else self.campaign_set
            source = self._file_campaigns
            super().reset(replace(source, audiences=dict(source.audiences)))
            now = utcnow()
            #: id -> the fields of ``Audience`` beyond id/name (created, description ...)
            self.audience_records: dict[int, dict[str, Any]] = {
                aid: {"created": now, "lastUpdate": now} for aid in self.campaign_set.audiences
            }

    def _audience_api(self, audience_id: int) -> dict[str, Any]:
        record = self.audience_records[audience_id]
        data: dict[str, Any] = {
            "id": audience_id,
            "accountId": ACCOUNT_ID,
            "created": isoformat(record["created"]),
            "name": self.campaign_set.audiences[audience_id],
            "sandbox": True,
            "lastUpdate": isoformat(record["lastUpdate"]),
        }
        for key in ("description", "integration", "integrationId"):
            if key in record:
                data[key] = record[key]
        if "integrationId" in record:
            data["createdIn3rdParty"] = True
        return data

    def _audience_or_404(self, audience_id: int) -> int:
        if audience_id not in self.campaign_set.audiences:
            raise not_found(f"audience {audience_id} not found", "audience")
        return audience_id

    def create_audience(self, body: Any) -> dict[str, Any]:
        """POST /v2/audiences (409 for a second audience with the same integrationId)."""
        body = want_object(body, "")
        name = want_str(body.get("name"), "/name", min_length=1)
        record: dict[str, Any] = {}
        if "description" in body:
            record["description"] = want_str(body["description"], "/description")
        if "integration" in body:
            record["integration"] = want_str(body["integration"], "/integration", min_length=1)
        if "integrationId" in body:
            record["integrationId"] = want_str(
                body["integrationId"], "/integrationId", min_length=1, max_length=1000
            )
        with self.lock:
            wanted = record.get("integrationId")
            if wanted is not None and any(
                r.get("integrationId") == wanted for r in self.audience_records.values()
            ):
                raise ApiError(
                    409,
                    f"an audience with integrationId {wanted!r} already exists",
                    title="Conflict",
                    details="An Audience with this ID already exists for this integration.",
                    pointer="/integrationId",
                )
            audience_id = max([*self.campaign_set.audiences, 0]) + 1
            now = utcnow()
            self.campaign_set.audiences[audience_id] = name
            self.audience_records[audience_id] = {**record, "created": now, "lastUpdate": now}
            return self._audience_api(audience_id)

    def update_audience(self, raw_id: str, body: Any) -> dict[str, Any]:
        """PUT /v2/audiences/{audienceId}: a new name."""
        audience_id = audience_id_param(raw_id)
        body = want_object(body, "")
        name = want_str(body.get("name"), "/name", min_length=1)
        with self.lock:
            self._audience_or_404(audience_id)
            self.campaign_set.audiences[audience_id] = name
            return self._audience_api(audience_id)

    def delete_audience(self, raw_id: str) -> None:
        """DELETE /v2/audiences/{audienceId}: the audience and every membership in it."""
        audience_id = audience_id_param(raw_id)
        with self.lock:
            self._audience_or_404(audience_id)
            self._leave(audience_id, utcnow())
            del self.campaign_set.audiences[audience_id]
            del self.audience_records[audience_id]

    def delete_audience_memberships(self, raw_id: str) -> None:
        """DELETE /v2/audiences/{audienceId}/memberships: every member leaves."""
        audience_id = audience_id_param(raw_id)
        with self.lock:
            self._audience_or_404(audience_id)
            self._leave(audience_id, utcnow())

    def _leave(self, audience_id: int, now: datetime) -> None:
        for profile in self.profiles.values():
            if audience_id in profile.audiences:
                profile.audiences.remove(audience_id)
        self.audience_records[audience_id]["lastUpdate"] = now

    def update_audience_customers_attributes(self, raw_id: str, body: Any) -> None:
        """PUT /v2/audience_customers/{audienceId}/attributes: set them on every member."""
        audience_id = audience_id_param(raw_id)
        attributes = dict(want_object(body, ""))
        if not attributes:
            raise bad_request("the body must name at least one attribute", pointer="/")
        with self.lock:
            self._audience_or_404(audience_id)
            for profile in self.profiles.values():
                if audience_id in profile.audiences:
                    profile.attributes.update(attributes)

    def audience_member_ids(self, audience_id: int) -> set[str]:
        """Integration ids of the audience's members (best prior price targets use it)."""
        with self.lock:
            return {p.integration_id for p in self.profiles.values() if audience_id in p.audiences}


__all__ = ["AudiencesMixin", "audience_id_param"]
