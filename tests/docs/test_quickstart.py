"""docs/quickstart.md runs: its walk-through is walked through the example shop's pages
(Django test client) against the emulator with the demo campaigns, and every amount a
step quotes is compared with what the shop shows, in the order the step quotes them. The
page's commands are checked against what they run (the Makefile, the demo command's
options and banner, the Celery app); ``make demo`` itself runs in
tests/example/test_demo_command.py.

The page once quoted 113.00 and 113 points for step 3 while the guest cart that comes
along made it 175.00: a number the shop does not show fails here.
"""

from __future__ import annotations

import io
import re
import subprocess
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from django_talon.models import Discrepancy, OutboxMessage
from example_project.demo.data import ACCOUNTS, PRODUCTS
from example_project.demo.management.commands.demo import Command as DemoCommand
from tests.docs.snippets import page_text, section, snippet, uncovered
from tests.resources import REPO_ROOT

PAGE = "quickstart.md"
MONEY = re.compile(r"(?<![\d.])(\d+\.\d\d)(?![\d.])")


def step(number: int) -> str:
    """The paragraph of the walk-through that starts with ``**<number>.``."""
    text = section(PAGE, "Walk through it")
    match = re.search(rf"^\*\*{number}\. .*?(?=^\*\*\d+\. |\Z)", text, re.M | re.S)
    assert match, f"docs/{PAGE} has no step {number}"
    return match[0]


def quoted_amounts(paragraph: str) -> list[Decimal]:
    return [Decimal(m) for m in MONEY.findall(paragraph)]


def amounts(page: str, css_class: str) -> list[Decimal]:
    found = re.findall(rf'class="{css_class}"[^>]*>\s*-?([\d,]+\.\d\d)', page)
    return [Decimal(v.replace(",", "")) for v in found]


def discount(page: str, name: str) -> Decimal:
    found = re.findall(
        rf'talon-discount-name">{re.escape(name)}</span> <span class="talon-discount-amount">'
        r"-([\d.]+)",
        page,
    )
    assert len(found) == 1, (name, found)
    return Decimal(found[0])


def messages(page: str) -> list[str]:
    return re.findall(r'<li class="(?:error|success|warning|info)">([^<]*)', page)


def cart(client: Client) -> str:
    return client.get("/cart/").content.decode().replace("&#x27;", "'")


def add(client: Client, sku: str, quantity: int = 1) -> None:
    assert client.post("/cart/add/", {"sku": sku, "quantity": quantity}).status_code == 302


def apply(client: Client, code: str) -> None:
    answer = client.post("/talon/coupon/apply/", {"code": code, "next": "/cart/"})
    assert answer.status_code == 302


def sign_in(username: str, client: Client | None = None) -> Client:
    client = client or Client()
    assert client.login(username=username, password=f"{username}-demo-pass")
    return client


def check_out_and_pay(client: Client) -> int:
    checkout = client.get("/orders/checkout/").content.decode()
    (total,) = re.findall(r'data-test="checkout-total">([\d.]+) EUR<', checkout)
    placed = client.post("/orders/checkout/", {"quoted_total": total})
    assert re.fullmatch(r"/orders/\d+/pay/", placed["Location"]), placed
    paid = client.post(placed["Location"], {"card_number": "4242 4242 4242 4242"})
    assert re.fullmatch(r"/orders/\d+/", paid["Location"]), paid
    return int(paid["Location"].split("/")[2])


def signed_sum(formula: str) -> float:
    """``89 − 50 + 89`` as the page writes it -> 128."""
    terms = re.findall(r"([+−-]?)\s*(\d+)", formula)
    return float(sum(-int(n) if sign in "−-" and sign else int(n) for sign, n in terms))


def quoted_sentence(paragraph: str, starts: str) -> str:
    """A sentence the page quotes in ``*"..."*``, starting with ``starts``."""
    match = re.search(rf'\*"({re.escape(starts)}[^"]*)"\*', paragraph.replace("\n", " "))
    assert match, f"step does not quote {starts!r}"
    return match[1]


@pytest.mark.django_db(transaction=True)
def test_steps_1_to_4_show_the_quoted_amounts(shop: Client, talon_emulator: Any) -> None:
    guest = Client()
    add(guest, "ESPRESSO-250", 2)
    add(guest, "KETTLE-GOOSENECK")
    before = cart(guest)
    apply(guest, "WELCOME10")
    after = cart(guest)
    (subtotal,) = amounts(before, "talon-subtotal")
    assert discount(before, "Item discounts") == Decimal("2.00")  # 1.00 per bag, two bags
    assert quoted_amounts(step(1)) == [
        subtotal,
        Decimal("1.00"),
        amounts(before, "talon-total")[0],
        discount(after, "Welcome 10%"),
        amounts(after, "talon-total")[0],
    ]
    assert "Spend 100 EUR, get a free tote bag" in before

    apply(guest, "NOPE42")
    refused = cart(guest)
    assert quoted_sentence(step(2), "Coupon NOPE42") in messages(refused)
    assert amounts(refused, "talon-total") == amounts(after, "talon-total")

    alice = sign_in("alice", guest)  # the guest cart comes along
    add(alice, "GRINDER-X")
    add(alice, "FILTER-1KG")
    page = cart(alice)
    assert "Free gift: Canvas tote bag" in page and 'data-test="free-line"' in page
    assert discount(page, "Item discounts") == Decimal("3.00")
    assert quoted_amounts(step(3)) == [
        amounts(page, "talon-subtotal")[0],
        Decimal("100.00"),  # the tote's threshold
        discount(page, "Welcome 10%"),
        Decimal("3.00"),
        amounts(page, "talon-total")[0],
        Decimal("1.00"),  # one point per full 1.00
    ]
    order = check_out_and_pay(alice)
    profile_id = f"user-{User.objects.get(username='alice').pk}"
    state = talon_emulator.control.state()
    (session,) = [s for s in state["sessions"].values() if s.get("profileId") == profile_id]
    assert session["state"] == "closed" and session["couponCodes"] == ["WELCOME10"]
    earned = state["profiles"][profile_id]["loyalty"]
    text = step(3)
    (points,) = re.findall(r"(\d+) points are earned", text)
    assert earned == {"1": float(points)}
    assert f'"loyalty": {{"1": {float(points)}}}' in text
    coupons = alice.get("/accounts/coupons/").content.decode()
    (balance,) = re.findall(r"\*(Coffee Club: \d+ points)\*", text)
    assert balance in coupons

    assert alice.post(f"/orders/{order}/cancel/").status_code == 302  # step 4
    state = talon_emulator.control.state()
    (session,) = [s for s in state["sessions"].values() if s.get("profileId") == profile_id]
    assert session["state"] == "cancelled" in step(4)
    assert state["profiles"][profile_id]["loyalty"] == {"1": 0.0}
    assert "the points return to 0" in step(4)


@pytest.mark.django_db(transaction=True)
def test_steps_5_and_6_a_reserved_code_for_alice_only(shop: Client, talon_emulator: Any) -> None:
    from django_talon.models import CustomerProfile

    staff = sign_in("staff")
    alice_profile = CustomerProfile.objects.get(user__username="alice")
    page = staff.post(
        "/admin/django_talon/customerprofile/",
        {"action": "reserve_coupon", "_selected_action": [alice_profile.pk]},
    )
    assert b"Coupon code" in page.content  # the action's form, as step 5 says
    done = staff.post(
        "/admin/django_talon/customerprofile/",
        {
            "action": "reserve_coupon",
            "_selected_action": [alice_profile.pk],
            "apply": "Reserve",
            "code": "VIP20",
        },
        follow=True,
    )
    assert "Reserved VIP20 for 1 customer." in done.content.decode()
    assert "*Reserve a coupon code for\nthe selected customers*" in step(5)

    alice = sign_in("alice")
    assert "VIP20" in alice.get("/accounts/coupons/").content.decode()
    add(alice, "KETTLE-GOOSENECK")
    apply(alice, "VIP20")
    page = cart(alice)
    assert "Code VIP20 applied." in messages(page)
    assert discount(page, "VIP 20%") == Decimal("9.00")  # 20% of 45.00
    assert "(−20%)" in step(6)

    bob = sign_in("bob")
    add(bob, "KETTLE-GOOSENECK")
    apply(bob, "VIP20")
    assert quoted_sentence(step(6), "Coupon VIP20") in messages(cart(bob))
    assert "Create my referral code" in alice.get("/accounts/coupons/").content.decode()
    assert "Referred by a friend?" in cart(bob) and "*Referred by a friend?*" in step(6)


@pytest.mark.django_db(transaction=True)
def test_step_7_an_outage_and_its_recovery(shop: Client, talon_emulator: Any) -> None:
    text = step(7)
    staff = sign_in("staff")
    assert b'href="/demo/outage/"' in staff.get("/").content  # the Outage switch link
    started = staff.post("/demo/outage/", {"action": "start"}, follow=True).content.decode()
    assert "*Start an outage*" in text and "Outage ON" in started
    assert [f["status"] for f in talon_emulator.control.faults()] == [503]

    bob = sign_in("bob")
    add(bob, "ESPRESSO-250", 2)
    add(bob, "KETTLE-GOOSENECK")
    apply(bob, "WELCOME10")
    page = cart(bob)
    assert quoted_sentence(text, "We couldn't confirm") in page
    assert quoted_sentence(text, "We are checking code") in messages(page)
    check_out_and_pay(bob)
    assert quoted_amounts(text) == [amounts(page, "talon-total")[0], Decimal("62.00")]

    waiting, drained = re.findall(r"\*Pending writes: (\d+)\*", text)
    outage_page = staff.get("/demo/outage/").content.decode()
    assert f'data-test="outbox-pending">{waiting}<' in outage_page
    ended = staff.post("/demo/outage/", {"action": "stop"}, follow=True).content.decode()
    assert "*End the outage*" in text
    assert f'data-test="outbox-pending">{drained}<' in ended
    assert not OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).exists()
    (session,) = talon_emulator.control.state()["sessions"].values()
    assert session["state"] == "closed"
    (discrepancy,) = Discrepancy.objects.all()
    assert "*Open\ndiscrepancies* shows 1" in text
    assert discrepancy.charged_discount == 0 and discrepancy.booked_discount == Decimal("2")
    assert 'data-test="discrepancies">1<' in ended


def test_the_catalog_table_is_the_demo_catalog() -> None:
    rows = re.findall(
        r"^\| `([A-Z0-9-]+)` \| ([^|]+) \| (\w+) \| ([\d.]+) \|$", page_text(PAGE), re.M
    )
    assert rows == [(sku, name, category, price) for sku, name, category, price, _ in PRODUCTS]


def test_the_banner_block_is_what_the_demo_prints(settings: Any) -> None:
    """Every line the page shows (but its ``...``) is a line the demo command prints
    (with the demo's defaults: no ``TALON_BASE_URL``, no broker)."""
    settings.TALON = {**settings.TALON, "BASE_URL": "http://127.0.0.1:9100"}
    settings.CELERY_BROKER_URL = ""
    block = snippet(PAGE, "================================================================")
    command = DemoCommand(stdout=io.StringIO())
    command.banner("127.0.0.1", 8000, ACCOUNTS)
    printed = command.stdout.getvalue().splitlines()  # type: ignore[attr-defined]
    for line in block.code.splitlines():
        if line.strip() != "...":
            assert line in printed, line


def test_make_demo_and_its_options_run_the_demo_command() -> None:
    text = page_text(PAGE)
    assert "`make demo DEMO_ARGS=--keep-db`" in text
    assert '`make demo DEMO_ARGS="--port 8001"`' in text
    dry = subprocess.run(
        ["make", "-n", "demo", "DEMO_ARGS=--port 8001"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r"^\S*python manage.py demo --port 8001$", dry, re.M), dry
    parser = DemoCommand().create_parser("manage.py", "demo")
    options = parser.parse_args(["--keep-db", "--no-emulator", "--port", "8001"])
    assert (options.keep_db, options.no_emulator, options.port) == (True, True, 8001)
    assert "`--emulator-restart-delay`" in text
    assert parser.parse_args([]).emulator_restart_delay == 10
    settings_source = (REPO_ROOT / "example_project" / "settings.py").read_text()
    assert 'os.environ.get("TALON_BASE_URL"' in settings_source  # TALON_BASE_URL=... make demo


def test_the_celery_commands_name_the_shops_celery_app() -> None:
    block = snippet(
        PAGE,
        "export CELERY_BROKER_URL=redis://127.0.0.1:6379/0      # or amqp://guest:guest@127.0.0.1:5672//",
    )
    assert "celery -A example_project.celery worker" in block.code
    assert "celery -A example_project.celery beat" in block.code
    from celery import Celery

    from example_project import celery as shop_celery

    assert isinstance(shop_celery.app, Celery)
    settings_source = (REPO_ROOT / "example_project" / "settings.py").read_text()
    assert 'CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL"' in settings_source


@pytest.mark.django_db
def test_the_rest_urls_it_names_answer(shop_talon: dict[str, Any]) -> None:
    client = Client()
    assert client.get("/api/talon/promotions/").status_code == 200
    assert client.get("/api/talon/schema/").status_code == 200
    text = section(PAGE, "The REST API")
    assert "<http://127.0.0.1:8000/api/talon/promotions/>" in text


def test_every_block_is_tested_or_marked() -> None:
    assert (
        uncovered(
            PAGE,
            [
                "================================================================",
                "export CELERY_BROKER_URL=redis://127.0.0.1:6379/0      # or amqp://guest:guest@127.0.0.1:5672//",
            ],
        )
        == []
    )


@pytest.mark.django_db(transaction=True)
def test_step_8_free_shipping_shows_the_quoted_amounts(shop: Client, talon_emulator: Any) -> None:
    from example_project.orders.models import Order

    add(shop, "ESPRESSO-250")
    assert shop.post("/cart/delivery/", {"delivery": "standard"}).status_code == 302
    below = cart(shop)
    (shipping,) = re.findall(
        r'<span class="talon-cost-name">Shipping</span> <span class="talon-cost-price">([\d.]+)',
        below,
    )
    (session,) = talon_emulator.control.state()["sessions"].values()
    assert session["additionalCosts"] == {"shipping": {"price": 4.9}}
    assert '`"additionalCosts": {"shipping": {"price": 4.9}}`' in step(8)
    add(shop, "KETTLE-GOOSENECK")
    above = cart(shop)
    assert "Free shipping over 50" in above
    (free,) = re.findall(r'talon-cost-discount"[^>]*>.*?amount">-([\d.]+)', above)
    (kettle,) = re.findall(
        r'data-sku="KETTLE-GOOSENECK">.*?data-test="line-total">([\d.]+)', above, re.S
    )
    order_id = check_out_and_pay(shop)
    order = Order.objects.get(pk=order_id)
    assert quoted_amounts(step(8)) == [
        Decimal("8.50"),
        Decimal("7.50"),  # 8.50 less the coffee discount
        Decimal(shipping),
        amounts(below, "talon-total")[0],
        amounts(above, "talon-subtotal")[0],
        Decimal("50.00"),  # the campaign's threshold
        Decimal(free),
        Decimal(kettle),
        amounts(above, "talon-total")[0],
        Decimal(shipping),  # checkout lists the cost
        order.total,
        order.shipping,
        Decimal(free),  # the ledger's booking of it: tests/example/test_shipping.py
    ]


@pytest.mark.django_db(transaction=True)
def test_paying_with_points_shows_the_quoted_numbers(shop: Client, talon_emulator: Any) -> None:
    text = section(PAGE, "Paying with points")
    profile_id = f"user-{User.objects.get(username='alice').pk}"

    def balance() -> float:
        loyalty = talon_emulator.control.state()["profiles"][profile_id]["loyalty"]
        points: float = loyalty["1"]
        return points

    add(shop, "GRINDER-X")
    check_out_and_pay(shop)
    (earned,) = re.findall(r"now shows (\d+) points to spend", text)
    assert balance() == float(earned)
    assert f'"+{earned} Coffee Club points"' in text

    add(shop, "GRINDER-X")
    before = amounts(cart(shop), "talon-total")[0]
    (spent,) = re.findall(r"enter `(\d+)`", text)
    answer = shop.post("/talon/points/redeem/", {"points": spent, "next": "/cart/"})
    assert answer.status_code == 302
    page = cart(shop)
    taken = discount(page, "Paid with points")
    assert f'"Paid with points −{taken}"' in text and f"a total {taken} lower" in text
    assert amounts(page, "talon-total")[0] == before - taken
    assert taken == Decimal(spent) / 100  # "100 points = 1.00 EUR off"
    order = check_out_and_pay(shop)
    (after, formula) = re.search(r"shows (\d+) \(([\d −+]+) earned\)", text).groups()  # type: ignore[union-attr]
    assert balance() == float(after) == signed_sum(formula)
    assert shop.post(f"/orders/{order}/cancel/").status_code == 302
    assert balance() == float(earned)  # the 50 come back, the 89 it earned go
