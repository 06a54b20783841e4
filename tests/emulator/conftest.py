"""Fixtures for the emulator tests: every answer the emulator sends is checked against the spec.

``emulator`` wraps the plugin's ``talon_emulator`` fixture and registers a response hook on the
running app; at teardown every Integration API answer of the test (success AND error bodies) is
validated with ``tests.openapi_contract.validate_response``. One documented exception: v1
answers carry effects in ``event.effects`` as positional arrays (the real wire format, see
spec/TALON_API.md section 5.4), while the 2021 document declares "array of object"; those are
checked for the positional shape and then validated with the rest of the body.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from django_talon.client import RetryPolicy, TalonClient
from django_talon.testing.plugin import EmulatorHandle, answer_problems
from tests.emulator.spec_check import check_response
from tests.resources import require_spec


@pytest.fixture
def emulator(
    talon_emulator: EmulatorHandle, request: pytest.FixtureRequest
) -> Iterator[EmulatorHandle]:
    """The reset emulator; every answer of the test is validated against the spec at teardown.

    (When the ini option ``talon_emulator_check`` already does that suite-wide, this fixture
    only insists that the spec documents are present.)
    """
    require_spec()
    if request.config.getini("talon_emulator_check"):
        yield talon_emulator
        return
    answers: list[dict[str, Any]] = []
    hooks = talon_emulator.server.app.response_hooks
    hooks.append(answers.append)
    try:
        yield talon_emulator
    finally:
        hooks.remove(answers.append)
    problems = answer_problems(answers, check_response)
    assert not problems, "responses not matching the spec:\n" + "\n".join(problems)


@pytest.fixture
def client(emulator: EmulatorHandle) -> Iterator[TalonClient]:
    """A TalonClient on the emulator, without retries (tests count calls)."""
    talon = emulator.client(retry=RetryPolicy.none(), timeout=(2.0, 5.0))
    try:
        yield talon
    finally:
        talon.close()


class Raw:
    """Plain ``requests`` access, for what the client refuses to send (bad requests)."""

    def __init__(self, handle: EmulatorHandle) -> None:
        self.url = handle.url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"ApiKey-v1 {handle.api_key}"

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 5)
        return self.session.request(method, self.url + path, **kwargs)


@pytest.fixture
def raw(emulator: EmulatorHandle) -> Iterator[Raw]:
    http = Raw(emulator)
    try:
        yield http
    finally:
        http.session.close()


COFFEE = {
    "sku": "ESPRESSO-250",
    "name": "Espresso beans 250 g",
    "price": 8.5,
    "quantity": 2,
    "category": "coffee",
}
FILTER = {
    "sku": "FILTER-1KG",
    "name": "Filter coffee 1 kg",
    "price": 24.0,
    "quantity": 1,
    "category": "coffee",
}
GRINDER = {
    "sku": "GRINDER-X",
    "name": "Grinder X",
    "price": 89.0,
    "quantity": 1,
    "category": "equipment",
}
KETTLE = {
    "sku": "KETTLE-GOOSENECK",
    "name": "Gooseneck kettle",
    "price": 45.0,
    "quantity": 1,
    "category": "equipment",
}


def types(state: Any) -> list[str]:
    """Effect types of a client result (or a raw list of effect dicts)."""
    effects = state if isinstance(state, list) else state.raw["effects"]
    return [e["effectType"] for e in effects]


def props_of(state: Any, effect_type: str) -> list[dict[str, Any]]:
    effects = state if isinstance(state, list) else state.raw["effects"]
    return [e["props"] for e in effects if e["effectType"] == effect_type]


#: One fault of every kind, each matching only sessions whose id starts with its kind (so a
#: hanging call, which keeps its session's in-flight lock, never blocks the others), and what
#: a plain HTTP call with a 0.5 s read timeout sees. The CLI, control endpoint and fixture
#: tests all use it, so a new fault kind without a test fails ``test_every_kind_is_covered``.
FAULT_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "latency": ({"seconds": 0.1}, "200"),
    "error": ({"status": 503}, "503"),
    "conflict": ({}, "409"),
    "drop": ({}, "dropped"),
    "hang": ({"seconds": 5}, "timeout"),
}


def fault_spec(kind: str) -> dict[str, Any]:
    """The FAULT_CASES fault of ``kind`` as keyword arguments (affects one call)."""
    extra, _ = FAULT_CASES[kind]
    return {"kind": kind, "path": f"/v2/customer_sessions/{kind}*", "times": 1, **extra}


def fault_outcome(url: str, api_key: str, session_id: str) -> str:
    """What a client sees for one session update: the status, ``dropped`` or ``timeout``."""
    try:
        answer = requests.put(
            f"{url}/v2/customer_sessions/{session_id}",
            json={"customerSession": {"cartItems": [COFFEE]}},
            headers={"Authorization": f"ApiKey-v1 {api_key}"},
            timeout=(2.0, 0.5),
        )
    except requests.ReadTimeout:
        return "timeout"
    except requests.ConnectionError:
        return "dropped"
    return str(answer.status_code)


def assert_fault_fires_once(url: str, api_key: str, kind: str) -> None:
    """The ``kind`` fault changes the first matching call (as FAULT_CASES says), not the next."""
    assert fault_outcome(url, api_key, f"{kind}-1") == FAULT_CASES[kind][1]
    assert fault_outcome(url, api_key, f"{kind}-2") == "200"  # times=1: expired


def assert_latency_logged(calls: list[dict[str, Any]]) -> None:
    """The latency fault held its call at least its 0.1 s (a lower bound: never flaky)."""
    first = next(c for c in calls if c["path"] == "/v2/customer_sessions/latency-1")
    assert first["status"] == 200 and first["duration_ms"] >= 100
