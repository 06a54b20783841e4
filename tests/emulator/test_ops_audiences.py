"""Audiences in the emulator (issue 15): created, renamed, emptied, deleted, their members'
attributes set, and used by campaign conditions and the campaign list. Over HTTP, through
the client; every answer is validated against the spec by the ``emulator`` fixture."""

from __future__ import annotations

from typing import Any

import pytest

from django_talon.client import TalonBadRequest, TalonClient, TalonConflict, TalonNotFound
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, Raw, types


def member_campaign(audience_id: int) -> dict[str, Any]:
    return {
        "application": {"id": 1},
        "campaigns": [
            {
                "id": 1,
                "name": "Members 5 off",
                "conditions": [{"type": "audienceMember", "audienceId": audience_id}],
                "effects": [{"type": "setDiscount", "amount": 5}],
            },
            {"id": 2, "name": "Everyone", "effects": [{"type": "showNotification", "body": "hi"}]},
        ],
    }


def test_a_created_audience_drives_campaign_conditions(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    emulator.load_campaigns(member_campaign(1))  # a file without audiences: ids start at 1
    audience = client.create_audience_v2("Coffee lovers", description="bought coffee twice")
    assert audience.id == 1 and audience.name == "Coffee lovers"
    assert audience.raw["description"] == "bought coffee twice"
    session = {"profileId": "ada", "cartItems": [COFFEE]}
    assert "setDiscount" not in types(client.update_customer_session_v2("s1", session))
    client.update_customer_profile_audiences(
        [{"action": "add", "profileIntegrationId": "ada", "audienceId": audience.id}]
    )
    assert "setDiscount" in types(client.update_customer_session_v2("s1", session))
    profile = client.update_customer_profile_v2("ada").customer_profile
    assert profile is not None
    assert profile.audience_memberships == [{"id": audience.id, "name": "Coffee lovers"}]


def test_rename_empty_and_delete(client: TalonClient, emulator: EmulatorHandle) -> None:
    audience = client.create_audience_v2("Newsletter")
    assert audience.id is not None
    client.update_customer_profile_audiences(
        [
            {"action": "add", "profileIntegrationId": p, "audienceId": audience.id}
            for p in ("ada", "bob")
        ]
    )
    renamed = client.update_audience_v2(audience.id, "Weekly newsletter")
    assert renamed.name == "Weekly newsletter" and renamed.id == audience.id
    members = emulator.state()["profiles"]["ada"]["audienceMemberships"]
    assert {"id": audience.id, "name": "Weekly newsletter"} in members
    client.delete_audience_memberships_v2(audience.id)
    assert emulator.state()["profiles"]["bob"]["audienceMemberships"] == []
    client.update_customer_profile_audiences(  # still exists: joining works
        [{"action": "add", "profileIntegrationId": "bob", "audienceId": audience.id}]
    )
    client.delete_audience_v2(audience.id)
    assert emulator.state()["profiles"]["bob"]["audienceMemberships"] == []
    assert str(audience.id) not in emulator.state()["audiences"]
    with pytest.raises(TalonNotFound):
        client.delete_audience_v2(audience.id)
    with pytest.raises(TalonNotFound):
        client.update_audience_v2(audience.id, "x")
    with pytest.raises(TalonNotFound):
        client.delete_audience_memberships_v2(audience.id)
    with pytest.raises(TalonBadRequest):  # the membership API refuses it too now
        client.update_customer_profile_v2("bob", audiences_changes={"adds": [audience.id]})


def test_member_attributes_are_set_on_members_only(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    client.update_customer_profile_v2("ada", {"Tier": "silver", "City": "Berlin"})
    client.update_customer_profile_v2("bob", {"Tier": "silver"})
    client.update_customer_profile_v2("ada", audiences_changes={"adds": [1]})  # demo: VIP
    client.update_audience_customers_attributes(1, {"Tier": "gold"})
    profiles = emulator.state()["profiles"]
    assert profiles["ada"]["attributes"] == {"Tier": "gold", "City": "Berlin"}
    assert profiles["bob"]["attributes"] == {"Tier": "silver"}
    with pytest.raises(TalonNotFound):
        client.update_audience_customers_attributes(99, {"Tier": "gold"})


def test_integration_id_is_unique_and_reset_forgets_created_audiences(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    first = client.create_audience_v2("Segment VIP", integration="segment", integration_id="v1")
    assert first.integration == "segment" and first.integration_id == "v1"
    assert first.raw["createdIn3rdParty"] is True
    with pytest.raises(TalonConflict):
        client.create_audience_v2("again", integration="segment", integration_id="v1")
    assert first.id == 3  # after the demo's audiences 1 and 2
    emulator.reset()
    assert set(emulator.state()["audiences"]) == {"1", "2"}


def test_bad_requests(raw: Raw) -> None:
    assert raw("POST", "/v2/audiences", json={"name": ""}).status_code == 400
    assert raw("POST", "/v2/audiences", json={}).status_code == 400
    assert raw("PUT", "/v2/audiences/x", json={"name": "a"}).status_code == 400
    assert raw("PUT", "/v2/audience_customers/1/attributes", json={}).status_code == 400
    assert raw("PUT", "/v2/audience_customers/1/attributes", json=[1]).status_code == 400


def test_the_campaign_list_pages_and_filters(client: TalonClient, emulator: EmulatorHandle) -> None:
    emulator.load_campaigns(
        {
            "audiences": [{"id": 7, "name": "VIP"}],
            "campaigns": [
                {"id": 1, "name": "A", "description": "first", "tags": ["x"]},
                {
                    "id": 2,
                    "name": "B",
                    "ruleName": "Members save",
                    "conditions": [{"type": "audienceMember", "audienceId": 7}],
                    "startTime": "2026-01-01T00:00:00Z",
                },
                {"id": 3, "name": "C", "state": "disabled"},
                {"id": 4, "name": "D", "endTime": "2030-01-01T00:00:00Z"},
            ],
        }
    )
    page = client.integration_get_all_campaigns()
    assert [c.id for c in page.data] == [1, 2, 4] and page.has_more is False
    first = page.data[0]
    assert first.state == "enabled" and first.tags == ["x"] and first.description == "first"
    assert page.data[1].rules[0]["displayName"] == "Members save"
    assert page.data[1].linked_audience_ids == [7]
    paged = client.integration_get_all_campaigns(page_size=2)
    assert [c.id for c in paged.data] == [1, 2] and paged.has_more is True
    assert [c.id for c in client.integration_get_all_campaigns(skip=2).data] == [4]
    assert [c.id for c in client.iter_integration_campaigns(page_size=1)] == [1, 2, 4]
    assert [c.id for c in client.integration_get_all_campaigns(audience_id=7).data] == [2]
    assert [c.id for c in client.integration_get_all_campaigns(campaign_ids=[4, 3]).data] == [4]
    after = client.integration_get_all_campaigns(start_after="2025-01-01T00:00:00Z")
    assert [c.id for c in after.data] == [2]
    before = client.integration_get_all_campaigns(end_before="2031-01-01T00:00:00Z")
    assert [c.id for c in before.data] == [4]
    assert client.integration_get_all_campaigns(store_id=1).data == []


def test_the_campaign_list_refuses_bad_queries(raw: Raw) -> None:
    for query in ("pageSize=0", "pageSize=1001", "skip=-1", "campaignIds=a", "startAfter=x"):
        answer = raw("GET", f"/v1/integration/campaigns?{query}")
        assert answer.status_code == 400, query
