"""The neutral promotions summary, from hand-written effect dicts (pure, no DB, no API)."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django.utils import translation

from django_talon.promotions import quantize_money, summarize
from tests.surfaces.helpers import CART
from tests.surfaces.helpers import effect as eff


def test_empty_effects_gives_plain_totals() -> None:
    s = summarize([], CART, "EUR")
    assert s.subtotal == Decimal("106.00")
    assert s.total_discount == Decimal("0.00")
    assert s.total == Decimal("106.00")
    assert not s.has_promotions
    assert [line.subtotal for line in s.lines] == [Decimal("17.00"), Decimal("89.00")]


def test_cart_and_item_discounts_add_up() -> None:
    effects = [
        eff("setDiscount", 1, name="Welcome 10%", value=10.6),
        eff("setDiscountPerItem", 4, name="Coffee#0", value=1.0, position=0, subPosition=0),
        eff("setDiscountPerItem", 4, name="Coffee#0", value=1.0, position=0, subPosition=1),
    ]
    s = summarize(effects, CART, "eur")
    assert s.currency == "EUR"
    assert s.total_discount == Decimal("12.60")
    assert s.total == Decimal("93.40")
    assert [d.amount for d in s.cart_discounts] == [Decimal("10.60")]
    line = s.line(0)
    assert line is not None and line.discount == Decimal("2.00") and line.total == Decimal("15.00")
    assert s.line(1) is not None and s.line(1).discount == Decimal("0.00")  # type: ignore[union-attr]
    assert len(s.discounts) == 3


def test_rounding_is_per_effect_half_up_and_lines_add_up() -> None:
    effects = [eff("setDiscount", name=f"third {i}", value=3.335) for i in range(3)]
    s = summarize(effects, CART, "EUR")
    assert [d.amount for d in s.discounts] == [Decimal("3.34")] * 3
    assert s.total_discount == Decimal("10.02")
    assert summarize(effects, CART, "EUR", rounding=ROUND_DOWN).total_discount == Decimal(
        "10.02"
    ) - Decimal("0.03")


def test_currency_minor_units() -> None:
    assert quantize_money(1234.5, "JPY") == Decimal("1235")
    assert quantize_money("1.2345", "KWD") == Decimal("1.235")
    assert quantize_money("bogus", "EUR") == Decimal("0.00")
    assert quantize_money(float("nan"), "EUR") == Decimal("0.00")


def test_total_never_negative() -> None:
    s = summarize([eff("setDiscount", name="huge", value=500)], CART, "EUR")
    assert s.total == Decimal("0.00")
    assert s.cart_discounts[0].amount == Decimal("500.00")  # as sent
    # what it takes: at most the items, as the quote charges it (it was 500.00 here)
    assert s.total_discount == s.subtotal


def test_a_summary_on_its_own_allocates_scopes_as_the_quote_does() -> None:
    """The admin's session page shows a summary built on its own: a free-shipping discount
    scoped to the additional costs came off the items there (2.00 - 4.90 = 4.90)."""
    cart = [{"sku": "STICKER", "name": "Sticker", "price": 2.0, "quantity": 1}]
    free_shipping = eff("setDiscount", name="ship", value=4.9, scope="additionalCosts")
    s = summarize([free_shipping], cart, "EUR", additional_costs={"shipping": {"price": 4.9}})
    assert (s.subtotal, s.total_discount, s.total) == (
        Decimal("2.00"),
        Decimal("4.90"),
        Decimal("2.00"),
    )


def test_coupons_accept_wins_over_not_triggered_and_pending_codes() -> None:
    effects = [
        eff(
            "rejectCoupon", 3, value="WELCOME10", rejectionReason="CouponPartOfNotTriggeredCampaign"
        ),
        eff("acceptCoupon", 1, value="WELCOME10"),
        eff("rejectCoupon", 1, value="NOPE", rejectionReason="CouponNotFound"),
    ]
    s = summarize(effects, CART, "EUR", coupon_codes=["WELCOME10", "NOPE", "LATER"])
    assert [(c.code, c.status) for c in s.coupons] == [
        ("WELCOME10", "accepted"), ("NOPE", "rejected"), ("LATER", "pending"),
    ]  # fmt: skip
    assert [c.code for c in s.accepted_coupons] == ["WELCOME10"]
    rejected = s.rejected_coupons[0]
    assert rejected.reason == "CouponNotFound"
    with translation.override("en"):
        assert (
            rejected.message == "Coupon NOPE does not exist. Please check the code and try again."
        )
    assert s.accepted_coupons[0].message == ""
    assert s.accepted_coupons[0].campaign_ids == (1,)


def test_referrals() -> None:
    s = summarize(
        [eff("rejectReferral", 5, value="ABCD", rejectionReason="SomethingNew")],
        CART,
        "EUR",
        referral_code="ABCD",
    )
    assert s.referrals[0].rejected
    assert s.referrals[0].message == "Referral code ABCD could not be applied."
    s2 = summarize([eff("acceptReferral", 5, value="ABCD")], CART, "EUR")
    assert s2.accepted_referrals[0].code == "ABCD"


def test_free_items_in_cart_or_missing() -> None:
    effects = [
        eff("addFreeItem", 2, sku="FREE-TOTE", name="Canvas tote bag"),
        eff("addFreeItem", 2, sku="GRINDER-X", name="Grinder", desiredQuantity=2),
    ]
    s = summarize(effects, CART, "EUR")
    tote, grinder = s.free_items
    assert (tote.sku, tote.in_cart, tote.desired_quantity) == ("FREE-TOTE", False, 1)
    assert (grinder.quantity_in_cart, grinder.in_cart) == (1, False)
    cart = [*CART, {"sku": "FREE-TOTE", "name": "Tote", "quantity": 1, "price": 0}]
    assert summarize(effects, cart, "EUR").free_items[0].in_cart
    assert [f.sku for f in s.missing_free_items] == ["FREE-TOTE", "GRINDER-X"]


def test_loyalty_and_notifications() -> None:
    effects = [
        eff("addLoyaltyPoints", 6, name="Coffee Club", programId=1, subLedgerId="", value=106,
            recipientIntegrationId="u1", transactionUUID="t"),
        eff("deductLoyaltyPoints", 6, ruleTitle="Redeem", programId=1, subLedgerId="", value=20.5,
            transactionUUID="t2"),
        eff("showNotification", 7, notificationType="Info", title="Free tote",
            body="Spend 100 EUR, get a free tote bag"),
    ]  # fmt: skip
    s = summarize(effects, CART, "EUR")
    assert s.points_to_earn == Decimal("106")
    assert s.points_to_spend == Decimal("20.5")
    assert s.loyalty[1].name == "Redeem"
    assert s.notifications[0].body == "Spend 100 EUR, get a free tote bag"
    assert s.has_promotions


def test_unknown_and_other_effects_are_listed_raw_and_malformed_never_raise() -> None:
    custom = eff("customEffect", effectId=1, name="gift wrap", payload={"x": 1})
    future = eff("someEffectFrom2030", foo="bar")
    broken = eff("setDiscount", name="no value")
    s = summarize([custom, future, broken, "garbage", {"effectType": "setDiscount"}], CART)
    assert s.unknown_effects == [future]
    assert custom in s.other_effects and broken in s.other_effects
    assert s.total_discount == Decimal("0.00")


def test_accepts_decoded_effect_objects_and_cart_objects() -> None:
    class Decoded:
        raw = eff("setDiscount", name="d", value=1)

    class Item:
        sku, name, quantity, price, position = "S", "N", 3, "2.005", 7

    s = summarize([Decoded()], [Item()], "EUR")
    assert s.lines[0].position == 7
    assert s.lines[0].unit_price == Decimal("2.01")
    assert s.subtotal == Decimal("6.03")
    assert s.total == Decimal("5.03")


def test_summarised_types_are_types_the_client_decodes() -> None:
    from django_talon.client.effects import EFFECT_TYPES
    from django_talon.promotions import SUMMARISED_TYPES

    assert SUMMARISED_TYPES <= set(EFFECT_TYPES)


def test_v1_positional_effects_are_understood() -> None:
    s = summarize([[1, 2, 0, ["acceptCoupon", "WELCOME10"]]], CART, "EUR")
    assert [c.code for c in s.accepted_coupons] == ["WELCOME10"]


def test_effects_are_dispatched_by_their_decoded_class() -> None:
    from django_talon.client.effects import EFFECT_TYPES, Effect
    from django_talon.promotions import HANDLERS, SUMMARISED_TYPES

    assert all(isinstance(cls, type) and issubclass(cls, Effect) for cls in HANDLERS)
    assert {EFFECT_TYPES[name] for name in SUMMARISED_TYPES} == set(HANDLERS)


def test_typed_effects_give_the_same_summary_as_their_raw_dicts() -> None:
    from django_talon.client.effects import decode_effects

    effects = [
        eff("setDiscount", 1, name="Welcome", value=10.6, scope="sessionTotal"),
        eff("setDiscountPerItem", 4, name="Coffee#0", value=1.0, position=0),
        eff("acceptCoupon", 1, value="WELCOME10"),
        eff("addLoyaltyPoints", 6, name="Club", programId=1, value=106.0),
        eff("triggerWebhook", 8, webhookId=1, webhookName="w"),
        eff("someEffectFrom2030", foo="bar"),
    ]
    raw, typed = summarize(effects, CART, "EUR"), summarize(decode_effects(effects), CART, "EUR")
    assert typed == raw
    assert raw.cart_discounts[0].scope == "sessionTotal"
    assert raw.loyalty[0].points == Decimal("106") and raw.loyalty[0].program_id == 1
    assert raw.other_effects == [effects[4]] and raw.unknown_effects == [effects[5]]


def test_a_missing_prop_is_not_the_decoders_default() -> None:
    """The decoder fills a missing ``position`` with 0 and ``programId`` with 0: the summary
    must not put such a discount on the first cart line nor invent programme 0."""
    s = summarize(
        [
            eff("setDiscountPerItem", name="Where#?", value=1),
            eff("deductLoyaltyPoints", ruleTitle="Redeem", value=5),
            eff("setDiscount", name="bad amount", value="abc"),
            eff("acceptCoupon"),
        ],
        CART,
        "EUR",
    )
    assert s.item_discounts[0].position is None and s.lines[0].discounts == []
    assert s.loyalty[0].program_id is None and s.loyalty[0].name == "Redeem"
    assert s.cart_discounts[0].amount == Decimal("0.00")
    assert s.coupons == [] and s.other_effects == [eff("acceptCoupon")]


def test_decoded_effects_of_a_stored_session() -> None:
    from types import SimpleNamespace

    from django_talon.client.effects import AcceptCoupon
    from django_talon.promotions import decoded_effects

    session = SimpleNamespace(effects=[eff("acceptCoupon", value="X")])
    (effect,) = decoded_effects(session)  # type: ignore[arg-type]
    assert isinstance(effect, AcceptCoupon) and effect.value == "X"
    assert decoded_effects(SimpleNamespace(effects=None)) == []  # type: ignore[arg-type]


def test_a_quote_is_built_from_the_summary_and_adds_up() -> None:
    from django_talon.promotions.quote import QuoteStatus
    from django_talon.promotions.quoting import build_quote

    effects = [
        eff("setDiscount", 1, name="Welcome 10%", value=10.6),
        eff("setDiscountPerItem", 4, name="Coffee#0", value=20, position=0),  # > line's 17.00
        eff("setDiscountPerItem", 4, name="Lost#7", value=1, position=7),  # no such line
        eff("setDiscountPerAdditionalCost", 5, name="Ship", value=2, additionalCost="shipping"),
        eff("acceptReferral", 5, value="REF1"),
    ]
    summary = summarize(effects, CART, "EUR", referral_code="REF1")
    quote = build_quote(
        summary, session_id="s", fingerprint="f", status=QuoteStatus.CONFIRMED, referral_code="REF1"
    )
    assert summary.quote is quote and quote.summary is summary
    assert quote.lines[0].discount == Decimal("17.00") and quote.lines[0].total == Decimal("0.00")
    assert [d.name for d in quote.cart_discounts] == ["Welcome 10%", "Lost"]
    assert [c.name for c in quote.additional_costs] == ["shipping"]
    assert quote.discount_total == Decimal("28.60")  # 17.00 + 10.60 + 1.00
    assert quote.total == Decimal("77.40") == summary.total
    assert quote.items_total - quote.cart_discount_applied == quote.total
    assert quote.referral_code == "REF1"
    assert quote.discounts_by_campaign() == {
        1: Decimal("10.60"),
        4: Decimal("18.00"),
        5: Decimal("0.00"),
    }  # charged amounts: no shipping price was pushed, so nothing was taken off it
    assert sum(quote.discounts_by_campaign().values()) == quote.discount_total


def test_unrepresentable_amounts_are_unusable_not_zero() -> None:
    from django_talon.promotions.money import UnusableAmountError, money_amount

    for value in ("1e29", "NaN", "Infinity", "1e999999", 10**15):
        try:
            money_amount(value, "EUR")
        except UnusableAmountError:
            continue
        raise AssertionError(f"{value!r} accepted")
    assert money_amount("999999999999999.99", "EUR") == Decimal("999999999999999.99")
    assert money_amount("abc", "EUR") == Decimal("0.00")  # not a number at all: 0, as before
    assert quantize_money("1e29", "EUR") == Decimal("0.00")
    s = summarize([eff("setDiscount", name="huge", value=1e29)], CART, "EUR")
    assert s.unusable_effects and s.discounts == [] and s.total == Decimal("106.00")
