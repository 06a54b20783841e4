"""The JSON fast paths (issue 13) write the standard library's bytes and read its values.

``django_talon.emulator.encoding`` uses ``orjson`` (the optional ``emulator`` extra) where its
bytes are certainly those of ``json``, and ``json`` everywhere else. These tests compare the
two on the values where they could differ (non-ASCII, DEL, NaN, tiny floats, big integers,
odd keys and types), on the answers of a run of real session updates, and check that the
usual session update answer does take the fast path and that the standard-library path is
what runs without ``orjson``.
"""

from __future__ import annotations

import collections
import enum
import importlib
import json
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest

from django_talon.emulator import encoding
from django_talon.emulator.app import EmulatorApp, request_from_target
from django_talon.emulator.encoding import encode_answer, encode_stdlib, same_as_stdlib

needs_orjson = pytest.mark.skipif(not encoding.ACCELERATED, reason="orjson is not installed")


class Colour(enum.IntEnum):
    RED = 1


class Text(str):
    pass


@dataclass
class Thing:
    value: int


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


VALUES: list[Any] = [
    {"a": 1, "b": [1.5, -0.0, 0.1 + 0.2, 100.0, 2.5e-4, 1e-4], "c": None, "d": True},
    {"name": "Café ü \u2028 \U0001f600", "plain": "ascii"},
    {"del": "a\x7fb", "controls": "".join(chr(i) for i in range(32)), "quote": '"\\/'},
    [1e-05, 1.5e-07, -2.5e-09, 0.00001234, 5e-324, -1e-05],
    [1e16, 1e17, 1.7976931348623157e308, 123456789012345.67, -1e22, 9007199254740993.0],
    [float("nan"), float("inf"), float("-inf")],
    [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**40],
    {1: "int key", 2.5: "float key", False: "bool key", None: "none key"},
    {"tuple": (1, 2, (3,)), "list": [[], {}]},
    {"text": "a note ,1e-5 and :0.00001 and [2e-3"},
    {"uuid": "e3e70682-c209-4cac-a29f-6fbed82c07cd", "hex": "12e-4cac-9e-1"},
    {"enum": Colour.RED, "str subclass": Text("x"), "ordered": collections.OrderedDict(a=1)},
    _nested(300),
    "\ud800 lone surrogate",
    {"value": 1.25, "when": "2026-01-01T00:00:00.000Z"},
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_the_answer_encoder_writes_the_standard_librarys_bytes(value: Any) -> None:
    assert encode_answer(value) == encode_stdlib(value)
    assert encode_stdlib(value) == json.dumps(value, separators=(",", ":")).encode()


@pytest.mark.parametrize("value", [Thing(1), datetime(2026, 1, 1, tzinfo=timezone.utc)])
def test_what_the_standard_library_refuses_is_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        encode_stdlib(value)
    with pytest.raises(TypeError):
        encode_answer({"x": value})


@pytest.mark.parametrize(
    ("data", "same"),
    [
        (b'{"a":1.5,"b":"x"}', True),
        (b'{"a":1e-5}', False),
        (b'{"a":[-1.5e-7]}', False),
        (b"2e-7", False),
        (b'{"a":0.00001}', False),
        (b'{"a":null}', False),
        (b'{"a":"\xc3\xa9"}', False),
        (b'{"a":"\x7f"}', False),
        (b'{"u":"e3e70682-c209-12e-4cac"}', True),  # hex in a string: not a number
        (b'{"a":1e+16}', True),
    ],
)
def test_what_counts_as_certainly_the_same(data: bytes, same: bool) -> None:
    assert same_as_stdlib(data) is same


CAMPAIGNS = {
    "application": {"id": 1, "currency": "EUR"},
    "loyaltyPrograms": [{"id": 1, "name": "club", "title": "Club"}],
    "campaigns": [
        {
            "id": 1,
            "name": "Welcome 10%",
            "trigger": "coupon",
            "coupons": ["WELCOME10"],
            "effects": [{"type": "setDiscount", "percent": 10}],
        },
        {
            "id": 2,
            "name": "Coffee 1 off each",
            "conditions": [{"type": "containsCategory", "category": "coffee"}],
            "effects": [{"type": "setDiscountPerItem", "category": "coffee", "amount": 1}],
        },
        {
            "id": 3,
            "name": "Points",
            "effects": [{"type": "addLoyaltyPoints", "programId": 1, "pointsPerAmount": 1}],
        },
        {"id": 4, "name": "Hello", "effects": [{"type": "showNotification", "body": "Hi"}]},
    ],
}


def _session(n: int) -> dict[str, Any]:
    items = [
        {
            "sku": f"SKU-{i}",
            "name": f"Item {i}" if n % 3 else f"Artikel {i} ä",
            "price": [4.5, 0.00001, 1e17, 3][(n + i) % 4] if n % 5 == 4 else 4.5 + i,
            "quantity": 1 + i % 2,
            "category": "coffee" if i % 3 == 0 else "equipment",
        }
        for i in range(1 + n % 6)
    ]
    codes = [["WELCOME10"], ["NOPE"], []][n % 3]
    return {"customerSession": {"profileId": f"p{n % 4}", "couponCodes": codes, "cartItems": items}}


def test_real_answers_encode_alike_both_ways() -> None:
    app = EmulatorApp(api_key="k", campaigns=CAMPAIGNS)
    payloads: list[Any] = []
    app.response_hooks.append(lambda call: payloads.append(call["body"]))
    headers = {"authorization": "ApiKey-v1 k", "content-type": "application/json"}
    bodies = []
    for n in range(40):
        body = json.dumps(_session(n)).encode()
        request, raw_path = request_from_target(
            "PUT", f"/v2/customer_sessions/s{n % 7}", dict(headers), body
        )
        answer = app.answer(request, raw_path)
        assert answer.status == 200
        bodies.append(answer.body)
    assert len(payloads) == len(bodies)
    for payload, body in zip(payloads, bodies, strict=True):
        assert body == encode_stdlib(payload)
        assert json.loads(body) == json.loads(encode_stdlib(payload))


@needs_orjson
def test_the_usual_session_answer_takes_the_fast_path() -> None:
    app = EmulatorApp(api_key="k", campaigns=CAMPAIGNS)
    payload = app.store.update_session_v2("s1", _session(1), {})
    orjson = pytest.importorskip("orjson")
    data = orjson.dumps(payload)
    assert same_as_stdlib(data)  # else the accelerator would never be used
    assert data == encode_stdlib(payload)


def _reloaded(monkeypatch: pytest.MonkeyPatch) -> Any:
    try:
        return importlib.reload(encoding)
    finally:
        monkeypatch.undo()


def test_without_orjson_the_standard_library_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "orjson", None)  # import orjson -> ImportError
    monkeypatch.delenv("DJANGO_TALON_EMULATOR_JSON", raising=False)
    try:
        module = _reloaded(monkeypatch)
        assert not module.ACCELERATED
        assert module.encode_answer is module.encode_stdlib
        assert module.decode is module.decode_stdlib
        assert module.encode_answer({"a": "é", "b": 1e-5}) == b'{"a":"\\u00e9","b":1e-05}'
    finally:
        importlib.reload(encoding)


@needs_orjson
def test_the_modes_choose_the_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        monkeypatch.setenv("DJANGO_TALON_EMULATOR_JSON", "stdlib")
        assert _reloaded(monkeypatch).encode_answer is encoding.encode_stdlib
        monkeypatch.setenv("DJANGO_TALON_EMULATOR_JSON", "check")
        checked = _reloaded(monkeypatch)
        assert checked.encode_answer is checked._encode_checked
        assert checked.decode is checked._decode_checked
        assert checked.decode(b'{"a": [1.5, 2]}') == {"a": [1.5, 2]}
        assert checked.encode_answer({"a": [1.5, "é"]}) == b'{"a":[1.5,"\\u00e9"]}'
    finally:
        importlib.reload(encoding)


DOCUMENTS = [
    b'{"customerSession": {"cartItems": [{"sku": "A", "price": 4.5, "quantity": 2}]}}',
    b'{"a": 1, "a": 2, "b": [true, false, null], "c": -0, "d": -0.0, "e": 1e5, "f": 0.1}',
    b'{"big": 123456789012345678901234567890, "u64": 18446744073709551615}',
    b'{"neg": -9223372036854775809, "near": 9223372036854775807}',
    b'{"small": 1234567890123456789}',
    b'{"precise": 0.30000000000000004, "long": 1.00000000000000011102230246251565404236316680908}',
    b"[NaN, Infinity, -Infinity]",
    b"[1e400, -1e400, 1.7976931348623159e308]",
    b'"\\ud800 lone"',
    b'"\\ud83d\\ude00 pair \\u00e9 \\u0000"',
    "\ufeff{}".encode(),
    '{"k": "é"}'.encode("utf-16"),
    '{"k": "é ü 😀"}'.encode(),
    b'"\xed\xa0\x80"',
    b'{"a": "x\x01"}',
    b"[" * 2000 + b"]" * 2000,
    b"  [1, 2]  ",
    b'{"a": 1,}',
    b"01",
    b"",
]


@pytest.mark.parametrize("document", DOCUMENTS, ids=range(len(DOCUMENTS)))
def test_request_bodies_read_as_the_standard_library_reads_them(document: bytes) -> None:
    def read(decode: Any) -> Any:
        try:
            return ("value", repr(decode(document)))
        except (ValueError, RecursionError) as exc:
            return ("error", type(exc).__name__, str(exc))

    assert read(encoding.decode) == read(json.loads)
    assert read(encoding.decode_stdlib) == read(json.loads)


@needs_orjson
def test_the_usual_request_body_is_read_by_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps(_session(1)).encode()
    expected = json.loads(body)

    def no_stdlib(text: Any) -> Any:
        raise AssertionError("json.loads was used")

    monkeypatch.setattr(json, "loads", no_stdlib)
    assert encoding._decode_fast(body) == expected
    with pytest.raises(AssertionError):  # 19 digits in a row: json reads it
        encoding._decode_fast(b'{"n": 1234567890123456789}')


def test_an_unknown_json_mode_is_a_clear_error() -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", "import django_talon.emulator.encoding"],
        env={**os.environ, "DJANGO_TALON_EMULATOR_JSON": "orjsn"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_TALON_EMULATOR_JSON='orjsn'" in result.stderr
