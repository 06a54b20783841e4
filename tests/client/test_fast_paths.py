"""The fast paths of issue 13 give exactly what the careful paths give, and are taken.

Request bodies: :func:`encode_json` hands a plain payload to ``json.dumps`` without the
converting copy of :func:`to_jsonable`; anything else still goes through it. Effects:
:func:`decode_effect` uses a per-class table and makes the instance without the dataclass
``__init__``. Each is compared here with the straightforward way (the code as it was), on
values of the right type, of odd types and missing. No timing is asserted: the figures are in
``benchmarks/client_overhead.py``.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import enum
import json
import pickle
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from django_talon.client import TalonValidationError, validation
from django_talon.client.effects import (
    EFFECT_TYPES,
    Effect,
    SetDiscount,
    UnknownEffect,
    base,
    decode_effect,
    decode_effects,
)
from django_talon.client.effects.convert import to_int, to_str
from django_talon.client.validation import MAX_DEPTH, encode_json, to_jsonable

from .support import Answer, RecordingAdapter, make_client

# --- request bodies --------------------------------------------------------------------------


def careful_encoding(value: Any, field: str = "body") -> bytes:
    """The encoding as it was: convert everything, then dump."""
    return json.dumps(
        to_jsonable(value, field), separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


class Colour(enum.IntEnum):
    RED = 1


class Name(str):
    pass


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


PAYLOADS: list[Any] = [
    {},
    [],
    None,
    "text",
    {"customerSession": {"profileId": "c7", "cartItems": [{"sku": "A", "quantity": 2}]}},
    {"price": Decimal("8.50"), "integral": Decimal("3.000"), "big": Decimal("1E+3")},
    {"float": 2.45, "neg": -0.0, "int": 10**20, "t": True, "f": False, "none": None},
    {"unicode": "Grüße ☕", "escapes": 'quote " backslash \\ newline \n'},
    {"tuple": (1, "a", (2.5, None)), "list": [[], {}, [[]]]},
    {"ordered": OrderedDict([("b", 1), ("a", 2)])},
    {"when": dt.datetime(2026, 12, 1, 9, 30), "day": dt.date(2026, 12, 1)},
    {"aware": dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))},
    {"id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"set": {3, 1, 2}, "frozen": frozenset({"b", "a"})},
    {"enum": Colour.RED, Name("key"): Name("value")},
    nested(MAX_DEPTH),
    nested(MAX_DEPTH - 1, []),
    nested(MAX_DEPTH, []),
    {"deep": nested(MAX_DEPTH - 1)},
]

BAD_PAYLOADS: list[Any] = [
    {1: "int key"},
    {"nested": {None: "none key"}},
    {"nan": float("nan")},
    {"inf": [float("inf")]},
    {"decimal": Decimal("NaN")},
    {"decimal": [Decimal("-Infinity")]},
    {"object": object()},
    {"bytes": b"raw"},
    nested(MAX_DEPTH + 1),
    {"deep": nested(MAX_DEPTH)},
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_encoding_gives_the_same_bytes_as_the_careful_way(payload: Any) -> None:
    assert encode_json(payload) == careful_encoding(payload)


@pytest.mark.parametrize("payload", BAD_PAYLOADS, ids=range(len(BAD_PAYLOADS)))
def test_encoding_refuses_what_the_careful_way_refuses_with_the_same_error(payload: Any) -> None:
    with pytest.raises(TalonValidationError) as careful:
        careful_encoding(payload, "customer_session")
    with pytest.raises(TalonValidationError) as fast:
        encode_json(payload, "customer_session")
    assert (str(fast.value), fast.value.field) == (str(careful.value), careful.value.field)


def test_a_cycle_is_refused_as_before() -> None:
    cycle: dict[str, Any] = {}
    cycle["self"] = cycle
    with pytest.raises(TalonValidationError, match="reference cycle"):
        encode_json(cycle)


def test_a_plain_session_update_skips_the_converting_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decimal prices and all: the shop's usual payload goes straight to json.dumps."""
    calls: list[Any] = []

    def counted(value: Any, field: str = "body") -> Any:
        calls.append(value)
        return to_jsonable(value, field)

    monkeypatch.setattr(validation, "to_jsonable", counted)
    adapter = RecordingAdapter(Answer(200, {"effects": []}))
    client = make_client(adapter)
    cart = [{"sku": "ESPRESSO-250", "price": Decimal("8.50"), "quantity": 2}]
    client.update_customer_session_v2("cart-1", {"profileId": "c7", "cartItems": cart})
    assert calls == []
    assert adapter.sent[-1].json()["customerSession"]["cartItems"][0]["price"] == 8.5
    client.update_customer_session_v2("cart-1", {"attributes": {"At": dt.date(2026, 1, 2)}})
    assert len(calls) == 1
    assert adapter.sent[-1].json()["customerSession"]["attributes"] == {"At": "2026-01-02"}


# --- effects ---------------------------------------------------------------------------------


def straightforward_decode(obj: Any) -> Effect:
    """Decoding as it was (v2 objects): every field through its converter, then ``__init__``."""
    assert isinstance(obj, Mapping)
    raw = dict(obj)
    effect_type = to_str(raw.get("effectType")) or ""
    props_value = raw.get("props")
    props = dict(props_value) if isinstance(props_value, Mapping) else {}
    cls = EFFECT_TYPES.get(effect_type, UnknownEffect)
    kwargs: dict[str, Any] = {}
    for attribute, prop_name, converter, default in cls.PROP_FIELDS:
        value = converter(props.get(prop_name))
        kwargs[attribute] = default if value is None else value
    return cls(
        effect_type=effect_type,
        campaign_id=to_int(raw.get("campaignId")),
        ruleset_id=to_int(raw.get("rulesetId")),
        rule_index=to_int(raw.get("ruleIndex")),
        rule_name=to_str(raw.get("ruleName")) or "",
        triggered_by_coupon=to_int(raw.get("triggeredByCoupon")),
        props=props,
        raw=raw,
        **kwargs,
    )


#: Values of every JSON type and of the odd kinds servers have sent; each prop gets each.
ODD_VALUES: list[Any] = [
    None,
    "",
    "text",
    " 12.50 ",
    "7",
    0,
    7,
    -3,
    2.45,
    7.0,
    float("inf"),
    True,
    False,
    [],
    [1, "a"],
    {},
    {"nested": [1]},
    10**30,
]


def all_fields(effect: Effect) -> dict[str, Any]:
    return {f.name: getattr(effect, f.name) for f in dataclasses.fields(effect)}


def same_effect(fast: Effect, careful: Effect) -> None:
    assert type(fast) is type(careful)
    fast_fields, careful_fields = all_fields(fast), all_fields(careful)
    assert fast_fields == careful_fields
    # Equal values of the same type (Decimal("7") == 7 would hide an int where a Decimal was).
    assert {k: type(v) for k, v in fast_fields.items()} == {
        k: type(v) for k, v in careful_fields.items()
    }
    assert repr(fast) == repr(careful) and fast == careful


@pytest.mark.parametrize("effect_type", sorted(EFFECT_TYPES))
def test_every_effect_type_decodes_as_the_straightforward_way(effect_type: str) -> None:
    cls = EFFECT_TYPES[effect_type]
    prop_names = [prop for _, prop, _, _ in cls.PROP_FIELDS]
    for index, odd in enumerate(ODD_VALUES):
        # Each prop gets a value of the row's kind, shifted per prop so types mix in a row.
        props = {
            name: ODD_VALUES[(index + offset) % len(ODD_VALUES)]
            for offset, name in enumerate(prop_names)
        }
        props["notAField"] = odd
        wire = {
            "campaignId": odd,
            "rulesetId": 11,
            "ruleIndex": ODD_VALUES[(index + 3) % len(ODD_VALUES)],
            "ruleName": odd,
            "effectType": effect_type,
            "triggeredByCoupon": ODD_VALUES[(index + 5) % len(ODD_VALUES)],
            "props": props,
        }
        same_effect(decode_effect(wire), straightforward_decode(wire))
    for bare in ({"effectType": effect_type}, {"effectType": effect_type, "props": None}):
        same_effect(decode_effect(bare), straightforward_decode(bare))


def test_unknown_and_odd_shaped_effects_decode_as_before() -> None:
    for wire in (
        {"effectType": "teleportCart", "props": {"to": "moon"}, "campaignId": 1},
        {"effectType": 5, "props": []},
        {"props": {"value": "X"}},
        {},
        OrderedDict([("effectType", "acceptCoupon"), ("props", {"value": "WELCOME10"})]),
        {"effectType": "acceptCoupon", "props": OrderedDict([("value", "WELCOME10")])},
    ):
        same_effect(decode_effect(wire), straightforward_decode(wire))


def test_a_decoded_effect_is_an_ordinary_frozen_instance() -> None:
    effect = decode_effect({"effectType": "setDiscount", "props": {"name": "X", "value": 2.45}})
    assert isinstance(effect, SetDiscount) and effect.value == Decimal("2.45")
    with pytest.raises(dataclasses.FrozenInstanceError):
        effect.value = Decimal(1)  # type: ignore[misc]
    assert dataclasses.replace(effect, value=Decimal(1)).value == Decimal(1)
    assert effect == SetDiscount(effect_type="setDiscount", name="X", value=Decimal("2.45"))
    assert hash(effect) == hash(decode_effect(effect.raw))
    for copied in (pickle.loads(pickle.dumps(effect)), copy.deepcopy(effect), copy.copy(effect)):
        same_effect(copied, effect)
    assert dataclasses.asdict(effect)["value"] == Decimal("2.45")


def test_the_props_and_raw_of_a_decoded_effect_are_its_own_copies() -> None:
    props = {"value": "WELCOME10"}
    wire = {"effectType": "acceptCoupon", "props": props}
    first, second = decode_effects([wire, wire])
    assert first.props is not props and first.raw is not wire
    assert first.props is not second.props and first.__dict__ is not second.__dict__


def test_the_per_class_tables_are_made_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """No per-call introspection: decoding many effects reads no dataclass fields."""
    for cls in (*EFFECT_TYPES.values(), UnknownEffect):
        base.decoder_for(cls)
    calls: list[Any] = []
    real_fields = dataclasses.fields

    def counted(obj: Any) -> Any:
        calls.append(obj)
        return real_fields(obj)

    monkeypatch.setattr(dataclasses, "fields", counted)
    decode_effects(
        [{"effectType": t, "props": {}} for t in EFFECT_TYPES] + [{"effectType": "newType"}]
    )
    assert calls == []


def test_a_class_with_post_init_is_still_built_through_init() -> None:
    """The fast construction skips ``__init__``; a class that checks in ``__post_init__``
    (none does today) must not lose that."""
    seen: list[str] = []

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Checked(Effect):
        value: str = ""

        def __post_init__(self) -> None:
            seen.append(self.value)

    try:
        base.register("testCheckedEffect")(Checked)
        effect = decode_effect({"effectType": "testCheckedEffect", "props": {"value": "V"}})
    finally:
        del EFFECT_TYPES["testCheckedEffect"]
        del base.V1_EFFECT_ARGS["testCheckedEffect"]
    assert isinstance(effect, Checked) and seen == ["V"]
