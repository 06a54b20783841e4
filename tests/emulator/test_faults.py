"""Fault injection (every kind) and 409 on parallel updates of one session/profile."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from django_talon.client import (
    RetryPolicy,
    TalonClient,
    TalonConflict,
    TalonConnectionError,
    TalonServerError,
    TalonTimeoutError,
)
from django_talon.emulator.faults import KINDS, FaultSpecError, parse_fault
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import (
    COFFEE,
    FAULT_CASES,
    Raw,
    assert_fault_fires_once,
    assert_latency_logged,
    fault_spec,
)

CART = {"customerSession": {"cartItems": [COFFEE]}}


def test_error_for_the_next_n_calls(emulator: EmulatorHandle, raw: Raw) -> None:
    emulator.add_fault(kind="error", status=503, path="/v2/customer_sessions/*", times=2)
    statuses = [raw("PUT", "/v2/customer_sessions/a", json=CART).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert raw("PUT", "/v2/customer_profiles/p", json={}).status_code == 200
    assert emulator.state()["faults"] == []  # expired


def test_error_body_has_the_real_shape(emulator: EmulatorHandle, client: TalonClient) -> None:
    emulator.add_fault(kind="error", status=500, times=1, message="boom")
    with pytest.raises(TalonServerError) as info:
        client.update_customer_session_v2("a", {"cartItems": [COFFEE]})
    assert info.value.status == 500 and info.value.message == "boom"


def test_error_for_a_fraction_of_calls(emulator: EmulatorHandle, raw: Raw) -> None:
    emulator.add_fault(kind="error", status=502, rate=0.5, path="/v2/*")
    statuses = [raw("GET", "/v2/customer_sessions/none").status_code for _ in range(40)]
    failures = statuses.count(502)
    assert 0 < failures < 40
    assert set(statuses) == {502, 404}
    assert emulator.state()["faults"][0]["hits"] == failures


def test_method_filter(emulator: EmulatorHandle, raw: Raw) -> None:
    emulator.add_fault(kind="error", status=500, method="GET")
    assert raw("PUT", "/v2/customer_sessions/a", json=CART).status_code == 200
    assert raw("GET", "/v2/customer_sessions/a").status_code == 500


def test_conflict_storm(emulator: EmulatorHandle, client: TalonClient) -> None:
    emulator.add_fault(kind="conflict", times=3, path="/v2/customer_sessions/*")
    for _ in range(3):
        with pytest.raises(TalonConflict) as info:
            client.update_customer_session_v2("a", {"cartItems": [COFFEE]})
        assert info.value.body["StatusCode"] == 409
    assert client.update_customer_session_v2("a", {"cartItems": [COFFEE]}).raw["effects"]
    retrying = emulator.client(
        retry=RetryPolicy(max_attempts=4, backoff_base=0.001, backoff_max=0.002)
    )
    emulator.add_fault(kind="conflict", times=2)
    try:
        retrying.update_customer_session_v2("a", {"cartItems": [COFFEE]})
    finally:
        retrying.close()
    assert [c["status"] for c in emulator.requests()][-3:] == [409, 409, 200]


def test_dropped_connection(emulator: EmulatorHandle, client: TalonClient, raw: Raw) -> None:
    emulator.add_fault(kind="drop", times=1)
    with pytest.raises(TalonConnectionError):
        client.update_customer_session_v2("a", {"cartItems": [COFFEE]})
    assert emulator.requests()[-1]["status"] is None
    assert "a" not in emulator.state()["sessions"]  # dropped before processing
    emulator.add_fault(kind="drop", times=1)
    with pytest.raises(requests.ConnectionError):
        raw("GET", "/v2/customer_sessions/a")
    assert raw("PUT", "/v2/customer_sessions/a", json=CART).status_code == 200


def test_hang_past_the_client_timeout(emulator: EmulatorHandle) -> None:
    emulator.add_fault(kind="hang", seconds=5, times=1)
    impatient = emulator.client(retry=RetryPolicy.none(), timeout=(1.0, 0.2))
    try:
        with pytest.raises(TalonTimeoutError):
            impatient.update_customer_session_v2("a", {"cartItems": [COFFEE]})
    finally:
        impatient.close()
        emulator.clear_faults()  # wakes the hanging handler thread at once


def test_fixed_latency_trips_a_short_timeout(emulator: EmulatorHandle) -> None:
    emulator.add_fault(kind="latency", seconds=0.5, path="/v2/customer_sessions/*", times=1)
    impatient = emulator.client(retry=RetryPolicy.none(), timeout=(1.0, 0.05))
    try:
        with pytest.raises(TalonTimeoutError):
            impatient.update_customer_session_v2("a", {"cartItems": [COFFEE]})
    finally:
        impatient.close()


def test_random_latency_still_answers(emulator: EmulatorHandle, raw: Raw) -> None:
    emulator.add_fault(kind="latency", seconds=0.001, max_seconds=0.003)
    emulator.add_fault(kind="error", status=503, times=1)
    statuses = [raw("PUT", "/v2/customer_sessions/a", json=CART).status_code for _ in range(3)]
    assert statuses == [503, 200, 200]
    assert emulator.state()["faults"][0]["hits"] == 3


def test_faults_do_not_touch_control_endpoints(emulator: EmulatorHandle) -> None:
    emulator.add_fault(kind="error", status=500)
    assert emulator.control.state()["faults"][0]["kind"] == "error"


def _parallel(func: Any, count: int = 2) -> list[Any]:
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = func(index)
        except Exception as exc:  # collected and asserted on below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_second_update_of_a_session_in_flight_is_409(emulator: EmulatorHandle) -> None:
    # Latency keeps the first update in flight long enough for the second one to collide.
    emulator.add_fault(kind="latency", seconds=0.3, path="/v2/customer_sessions/*")
    clients = [emulator.client(retry=RetryPolicy.none()) for _ in range(2)]
    try:
        results = _parallel(
            lambda i: clients[i].update_customer_session_v2("same", {"cartItems": [COFFEE]})
        )
        conflicts = [r for r in results if isinstance(r, TalonConflict)]
        assert len(conflicts) == 1, results
        assert conflicts[0].body == {
            "message": "Too many requests are updating this session at the same time",
            "errors": [],
            "StatusCode": 409,
        }
        # different sessions do not collide
        results = _parallel(
            lambda i: clients[i].update_customer_session_v2(f"own-{i}", {"cartItems": [COFFEE]})
        )
        assert not any(isinstance(r, Exception) for r in results), results
    finally:
        for talon in clients:
            talon.close()
    assert emulator.state()["sessions"]["same"]["updateCount"] == 1


def test_parallel_profile_updates_conflict_too(emulator: EmulatorHandle) -> None:
    emulator.add_fault(kind="latency", seconds=0.3, path="/v2/customer_profiles/*")
    clients = [emulator.client(retry=RetryPolicy.none()) for _ in range(2)]
    try:
        results = _parallel(lambda i: clients[i].update_customer_profile_v2("p", {"i": i}))
    finally:
        for talon in clients:
            talon.close()
    assert sum(isinstance(r, TalonConflict) for r in results) == 1, results


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "nope"},
        {"kind": "error", "status": 200},
        {"kind": "error", "times": 0},
        {"kind": "error", "rate": 2},
        {"kind": "latency", "seconds": -1},
        {"kind": "latency", "seconds": 2, "max_seconds": 1},
        {"kind": "drop", "colour": "red"},
        "error:status=abc",
    ],
)
def test_invalid_fault_specs(spec: Any) -> None:
    with pytest.raises(FaultSpecError):
        parse_fault(spec)


def test_compact_fault_text() -> None:
    fault = parse_fault("error:status=503,path=/v2/*,times=2,rate=0.5,method=put")
    assert (fault.kind, fault.status, fault.path, fault.times, fault.rate, fault.method) == (
        "error",
        503,
        "/v2/*",
        2,
        0.5,
        "PUT",
    )
    assert parse_fault('{"kind": "hang"}').seconds == 30.0


def test_every_kind_is_covered() -> None:
    assert sorted(FAULT_CASES) == sorted(KINDS)


@pytest.mark.parametrize("kind", sorted(FAULT_CASES))
def test_every_kind_through_the_control_endpoint(emulator: EmulatorHandle, kind: str) -> None:
    control = emulator.control  # over HTTP: POST /_emulator/faults
    assert control.add_fault(**fault_spec(kind))["kind"] == kind
    try:
        assert_fault_fires_once(emulator.url, emulator.api_key, kind)
    finally:
        control.clear_faults()  # wakes a hanging handler thread at once
    if kind == "latency":
        assert_latency_logged(control.requests())


@pytest.mark.parametrize(
    "kind",
    [pytest.param(k, marks=pytest.mark.talon_fault(**fault_spec(k))) for k in sorted(FAULT_CASES)],
)
def test_every_kind_from_the_fixture_marker(emulator: EmulatorHandle, kind: str) -> None:
    assert [f["kind"] for f in emulator.state()["faults"]] == [kind]
    assert_fault_fires_once(emulator.url, emulator.api_key, kind)
    if kind == "latency":
        assert_latency_logged(emulator.requests())
