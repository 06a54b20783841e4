"""The loyalty REST endpoints against the emulator: the caller's own balance, history and
achievements (never another customer's), anonymous callers refused, spending points on the
cart (POST/DELETE points/), the loyalty template tags rendering with no API call on a
re-render, and the "use my points" form view."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.template import Context, Template
from django.test import Client, RequestFactory

from django_talon import services
from django_talon.emulator import DEMO_CAMPAIGNS
from django_talon.models import CustomerSession
from tests.core.shop import ESPRESSO, GRINDER, KETTLE, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/talon/"


def campaigns() -> dict[str, Any]:
    """The demo campaigns plus an achievement: three orders make a regular customer."""
    data: dict[str, Any] = json.loads(DEMO_CAMPAIGNS.read_text())
    data["achievements"] = [
        {
            "id": 1,
            "name": "RegularCustomer",
            "title": "Regular customer",
            "description": "Place three orders",
            "campaignId": 90,
            "target": 3,
        }
    ]
    data["campaigns"].append(
        {
            "id": 90,
            "name": "Regular customer",
            "effects": [{"type": "increaseAchievementProgress", "achievementId": 1}],
        }
    )
    return data


@pytest.fixture
def points_shop(shop: Any, settings: Any) -> Any:
    settings.TALON = {**settings.TALON, "LOYALTY_PROGRAM_ID": 1}
    shop.load_campaigns(campaigns())
    return shop


def member(django_user_model: Any, name: str, *, orders: int = 1) -> tuple[Any, Client]:
    """A signed-in customer with ``orders`` paid orders (106 points each) and an open cart
    (KETTLE, 45.00) remembered in their session."""
    user = django_user_model.objects.create_user(name, password="pw")
    for _ in range(orders):
        Order.objects.create(cart=make_cart(user, [ESPRESSO, GRINDER]), user=user, status="paid")
    client = Client()
    client.force_login(user)
    session = client.session
    session["cart_id"] = make_cart(user, [KETTLE]).pk
    session.save()
    return user, client


def test_my_loyalty_is_my_own_balance(points_shop: Any, django_user_model: Any) -> None:
    _, ann = member(django_user_model, "ann", orders=2)
    _, bob = member(django_user_model, "bob", orders=1)
    mine = ann.get(API + "me/loyalty/").json()
    assert (mine["program_id"], mine["found"], mine["active"], mine["pending"]) == (
        1,
        True,
        "212",
        "0",
    )
    assert mine["expiring_points"] == "0"  # the demo's points last 365 days
    assert bob.get(API + "me/loyalty/").json()["active"] == "106"


def test_my_transactions_are_my_own(points_shop: Any, django_user_model: Any) -> None:
    ann_user, ann = member(django_user_model, "ann", orders=2)
    _, bob = member(django_user_model, "bob", orders=1)
    ann_sessions = set(
        CustomerSession.objects.filter(profile__user=ann_user).values_list(
            "integration_id", flat=True
        )
    )
    answer = ann.get(API + "me/loyalty/transactions/").json()
    assert answer["has_more"] is False
    assert [(t["type"], t["amount"]) for t in answer["results"]] == [("addition", "106")] * 2
    assert {t["customer_session_id"] for t in answer["results"]} <= ann_sessions
    bobs = bob.get(API + "me/loyalty/transactions/").json()["results"]
    assert len(bobs) == 1 and bobs[0]["customer_session_id"] not in ann_sessions
    page = ann.get(API + "me/loyalty/transactions/", {"limit": 1}).json()
    assert page["has_more"] is True and len(page["results"]) == 1
    assert ann.get(API + "me/loyalty/transactions/", {"limit": 0}).status_code == 400
    assert ann.get(API + "me/loyalty/transactions/", {"offset": "x"}).status_code == 400
    huge = {"offset": "99999999999999999999"}  # beyond Talon.One's int64 skip
    assert ann.get(API + "me/loyalty/transactions/", huge).status_code == 400


def test_my_achievements(points_shop: Any, django_user_model: Any) -> None:
    _, ann = member(django_user_model, "ann", orders=2)
    (achievement,) = ann.get(API + "me/achievements/").json()
    assert achievement["name"] == "RegularCustomer"
    assert achievement["target"] == "3"
    assert achievement["current_progress"]["progress"] == "2"
    assert achievement["current_progress"]["status"] == "inprogress"


@pytest.mark.parametrize(
    "path", ["me/loyalty/", "me/loyalty/transactions/", "me/achievements/", "points/"]
)
def test_anonymous_callers_are_refused(points_shop: Any, path: str) -> None:
    assert Client().get(API + path).status_code in (401, 403, 405)
    assert Client().post(API + "points/", {"points": 1}).status_code in (401, 403)


def test_no_program_configured_answers_404(shop: Any, django_user_model: Any) -> None:
    _, ann = member(django_user_model, "ann", orders=0)
    assert ann.get(API + "me/loyalty/").status_code == 404
    assert ann.post(
        API + "points/", {"points": 1}, content_type="application/json"
    ).status_code == (404)


def test_spend_points_on_the_cart_and_stop(points_shop: Any, django_user_model: Any) -> None:
    _, ann = member(django_user_model, "ann", orders=1)
    answer = ann.post(API + "points/", {"points": 100}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert data["points_to_redeem"] == 100
    assert data["promotions"]["total_discount"] == "1.00"
    assert data["promotions"]["total"] == "44.00"
    assert any(p["kind"] == "spend" and p["points"] == "100" for p in data["promotions"]["loyalty"])

    too_many = ann.post(API + "points/", {"points": 107}, content_type="application/json")
    assert too_many.status_code == 400
    assert "107" in too_many.json()["points"][0]
    assert (
        ann.post(API + "points/", {"points": -1}, content_type="application/json").status_code
        == 400
    )

    cleared = ann.delete(API + "points/")
    assert cleared.status_code == 200
    assert cleared.json()["points_to_redeem"] == 0
    assert cleared.json()["promotions"]["total"] == "45.00"


def test_another_customers_points_cannot_be_spent(points_shop: Any, django_user_model: Any) -> None:
    _, ann = member(django_user_model, "ann", orders=1)
    _, bob = member(django_user_model, "bob", orders=0)  # bob has no points
    answer = bob.post(API + "points/", {"points": 50}, content_type="application/json")
    assert answer.status_code == 400
    assert ann.get(API + "me/loyalty/").json()["active"] == "106"


# --------------------------------------------------------------------------- template tags

PAGE = Template(
    "{% load talon_loyalty %}{% talon_loyalty_balance %}{% talon_loyalty_history %}"
    "{% talon_achievements %}"
)


def _request(user: Any) -> Any:
    request = RequestFactory().get("/account/points/")
    request.user = user
    request.session = {}  # type: ignore[assignment]
    return request


def test_tags_render_the_ledger_and_cost_no_call_on_a_re_render(
    points_shop: Any, django_user_model: Any
) -> None:
    user, _ = member(django_user_model, "ann", orders=2)
    points_shop.clear_requests()
    first = PAGE.render(Context({"request": _request(user)}))
    calls = len(points_shop.requests())
    assert calls == 4  # balances, active points, transactions, achievements
    assert 'class="talon-points-active" data-points="212"' in first
    assert first.count('data-type="addition"') == 2
    assert 'data-achievement="RegularCustomer" data-status="inprogress"' in first
    assert "2 / 3" in first
    again = PAGE.render(Context({"request": _request(user)}))
    assert again == first
    assert len(points_shop.requests()) == calls  # remembered: zero API calls


def test_tags_show_nothing_to_anonymous_visitors(points_shop: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    points_shop.clear_requests()
    html = PAGE.render(Context({"request": _request(AnonymousUser())}))
    assert html.strip() == ""
    assert points_shop.requests() == []


def test_tags_say_unavailable_when_talon_one_is_off(
    points_shop: Any, settings: Any, django_user_model: Any
) -> None:
    user, _ = member(django_user_model, "ann", orders=1)
    settings.TALON = {**settings.TALON, "ENABLED": False}
    html = PAGE.render(Context({"request": _request(user)}))
    assert "Your points are not available right now." in html
    assert "Your points history is not available right now." in html


def test_one_page_asks_a_failing_talon_one_once(
    points_shop: Any, settings: Any, django_user_model: Any
) -> None:
    """Talon.One answers 503: the first loyalty read of the page fails, and the page's other
    tags say "not available" without asking again (each waited its own timeout, and the
    failures opened the circuit breaker, which stops the cart's writes too)."""
    from django_talon import resilience

    user, _ = member(django_user_model, "ann", orders=1)
    settings.TALON = {**settings.TALON, "LOYALTY_CACHE_SECONDS": 0}
    fault = points_shop.add_fault(kind="error", status=503, path="/v1/*")
    points_shop.clear_requests()
    html = PAGE.render(Context({"request": _request(user)}))
    assert "Your points are not available right now." in html
    assert "Your points history is not available right now." in html
    hits = {f["id"]: f for f in points_shop.state()["faults"]}[fault["id"]]["hits"]
    assert hits == 1
    assert resilience.breaker.state() == "closed"


# --------------------------------------------------------------------------- form view


def test_the_points_form_spends_points_and_stops(points_shop: Any, django_user_model: Any) -> None:
    user, ann = member(django_user_model, "ann", orders=1)
    page = Template("{% load talon_loyalty %}{% talon_points_form %}")
    request = _request(user)
    request.session = ann.session
    points_shop.clear_requests()
    html = page.render(Context({"request": request}))
    assert points_shop.requests() == []  # the cart page never calls Talon.One
    assert "Use my points</label>" in html and "max=" not in html  # balance not known yet
    services.loyalty_balance(user)  # e.g. the "my points" page was seen
    html = page.render(Context({"request": request}))
    assert "Use my points (106 available)" in html and 'max="106"' in html

    answer = ann.post("/talon/points/redeem/", {"points": "100", "next": "/cart/"}, follow=False)
    assert answer.status_code == 302 and answer["Location"] == "/cart/"
    session = CustomerSession.objects.get(profile__user=user, state="open")
    assert session.points_to_redeem == 100
    assert ann.get(API + "promotions/").json()["total_discount"] == "1.00"

    refused = ann.post("/talon/points/redeem/", {"points": "500"})
    said = [str(m) for m in get_messages(refused.wsgi_request)]
    assert said[-1] == "You have 106 points to spend; 500 is more than that."
    session.refresh_from_db()
    assert session.points_to_redeem == 100

    ann.post("/talon/points/redeem/", {"action": "clear"})
    session.refresh_from_db()
    assert session.points_to_redeem == 0
    assert Decimal(ann.get(API + "promotions/").json()["total"]) == Decimal("45.00")
