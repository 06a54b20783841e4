"""The server itself: no Django, the CLI, keep-alive, control endpoints, the call log."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from django_talon.emulator import EmulatorControl, EmulatorControlError, EmulatorServer
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import (
    COFFEE,
    FAULT_CASES,
    Raw,
    assert_fault_fires_once,
    assert_latency_logged,
    fault_spec,
)
from tests.emulator.spec_check import check_response
from tests.resources import REPO_ROOT, require_spec


def test_importing_the_emulator_pulls_no_django() -> None:
    code = (
        "import sys, django_talon.emulator, django_talon.emulator.__main__, "
        "django_talon.testing.plugin\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(bad)\nsys.exit(1 if bad else 0)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_serves_with_campaigns_key_and_startup_fault(tmp_path: Path) -> None:
    require_spec()
    campaigns = tmp_path / "c.json"
    campaigns.write_text(
        json.dumps(
            {
                "campaigns": [
                    {"id": 1, "name": "Two off", "effects": [{"type": "setDiscount", "amount": 2}]}
                ]
            }
        )
    )
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django_talon.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--campaigns",
            str(campaigns),
            "--api-key",
            "cli-key",
            "--fault",
            "error:status=503,path=/v2/customer_sessions/*,times=1",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        control = EmulatorControl(url, timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                control.health()
                break
            except EmulatorControlError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        headers = {"Authorization": "ApiKey-v1 cli-key"}
        body = {"customerSession": {"cartItems": [COFFEE]}}
        first = requests.put(f"{url}/v2/customer_sessions/x", json=body, headers=headers, timeout=5)
        assert first.status_code == 503
        second = requests.put(
            f"{url}/v2/customer_sessions/x", json=body, headers=headers, timeout=5
        )
        assert second.status_code == 200
        assert second.json()["effects"][0]["props"] == {"name": "Two off", "value": 2.0}
        assert [c["status"] for c in control.requests()] == [503, 200]
        for answer in (first, second):
            check_response(
                {
                    "operation": "updateCustomerSessionV2",
                    "status": answer.status_code,
                    "body": answer.json(),
                    "method": "PUT",
                    "path": "/v2/customer_sessions/x",
                }
            )
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert "PUT /v2/customer_sessions/x -> 200" in output  # one log line per request


def test_cli_installs_every_fault_kind() -> None:
    faults = []
    for kind in sorted(FAULT_CASES):
        spec = fault_spec(kind)
        options = ",".join(f"{key}={value}" for key, value in spec.items() if key != "kind")
        faults += ["--fault", f"{kind}:{options}"]  # the compact text form
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "django_talon.emulator", "--port", str(port), "--api-key", "k"]
        + faults,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        control = EmulatorControl(url, timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                control.health()
                break
            except EmulatorControlError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        assert sorted(f["kind"] for f in control.faults()) == sorted(FAULT_CASES)
        for kind in sorted(FAULT_CASES):
            assert_fault_fires_once(url, "k", kind)
        assert_latency_logged(control.requests())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_cli_rejects_a_bad_campaign_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"campaigns": [{"id": 1}]}')
    result = subprocess.run(
        [sys.executable, "-m", "django_talon.emulator", "--port", "0", "--campaigns", str(bad)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "campaigns[0].name is required" in result.stderr


def test_keep_alive_connection_is_reused(emulator: EmulatorHandle, raw: Raw) -> None:
    for index in range(5):
        answer = raw(
            "PUT",
            f"/v2/customer_sessions/k{index}",
            json={"customerSession": {"cartItems": [COFFEE]}},
        )
        assert answer.status_code == 200
    pool = raw.session.get_adapter(emulator.url).poolmanager
    assert sum(p.num_connections for p in pool.pools._container.values()) == 1


def test_control_endpoints_over_http(emulator: EmulatorHandle, raw: Raw) -> None:
    control = emulator.control
    raw("PUT", "/v2/customer_sessions/a", json={"customerSession": {"cartItems": [COFFEE]}})
    raw("GET", "/v2/customer_sessions/a")
    calls = control.requests("/v2/customer_sessions/")
    assert [(c["method"], c["path"], c["status"], c["operation"]) for c in calls] == [
        ("PUT", "/v2/customer_sessions/a", 200, "updateCustomerSessionV2"),
        ("GET", "/v2/customer_sessions/a", 200, "getCustomerSession"),
    ]
    assert calls[0]["body"] == {"customerSession": {"cartItems": [COFFEE]}}
    assert control.state()["sessions"]["a"]["state"] == "open"
    control.clear_requests()
    assert control.requests() == []
    fault = control.add_fault(kind="error", status=500, times=1)
    assert fault["kind"] == "error" and control.faults()[0]["id"] == fault["id"]
    control.clear_faults()
    assert control.faults() == []
    control.load_campaigns(
        [{"id": 9, "name": "Only one", "effects": [{"type": "showNotification", "body": "hi"}]}]
    )
    assert [c["id"] for c in control.state()["campaigns"]] == [9]
    with pytest.raises(EmulatorControlError, match="400"):
        control.load_campaigns({"campaigns": [{"id": "x"}]})
    with pytest.raises(EmulatorControlError, match="400"):
        control.add_fault(kind="meteor")
    control.reset()
    assert [c["id"] for c in control.state()["campaigns"]] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert control.state()["sessions"] == {}
    assert raw("GET", "/_emulator/nope").status_code == 404
    assert raw("PUT", "/_emulator/reset").status_code == 405


def test_server_context_manager_and_stop() -> None:
    with EmulatorServer(api_key="k", campaigns=[]) as server:
        url = server.url
        answer = requests.get(f"{url}/_emulator/health", timeout=5)
        assert answer.json() == {"status": "ok"}
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/_emulator/health", timeout=2)


@pytest.mark.talon_campaigns(
    {
        "campaigns": [
            {"id": 3, "name": "Marker", "effects": [{"type": "setDiscount", "percent": 50}]}
        ]
    }
)
@pytest.mark.talon_fault(kind="error", status=502, path="/v1/*")
def test_fixture_markers_load_campaigns_and_faults(emulator: EmulatorHandle, raw: Raw) -> None:
    assert [c["id"] for c in emulator.state()["campaigns"]] == [3]
    assert raw("DELETE", "/v1/customer_data/x").status_code == 502
    assert emulator.state()["faults"][0]["status"] == 502


def test_fixture_resets_between_tests_part_one(emulator: EmulatorHandle, raw: Raw) -> None:
    raw("PUT", "/v2/customer_sessions/leftover", json={"customerSession": {}})
    emulator.add_fault(kind="error", status=500, path="/nothing")


def test_fixture_resets_between_tests_part_two(emulator: EmulatorHandle) -> None:
    state = emulator.state()
    assert state["sessions"] == {} and state["faults"] == [] and emulator.requests() == []
    assert repr(emulator).startswith("<EmulatorHandle http://127.0.0.1:")
    assert emulator.api_key not in repr(emulator)


def _raw_http(emulator: EmulatorHandle, payload: bytes) -> bytes:
    host, port = emulator.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
            if b"\r\n\r\n" in b"".join(chunks) and b"Connection: close" not in b"".join(chunks):
                break
        return b"".join(chunks)


def test_protocol_errors_are_json(emulator: EmulatorHandle) -> None:
    answer = _raw_http(emulator, b"NONSENSE\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["StatusCode"] == 400
    answer = _raw_http(emulator, b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 414")


def test_chunked_request_body(emulator: EmulatorHandle) -> None:
    body = json.dumps({"customerSession": {"cartItems": [COFFEE]}}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    answer = _raw_http(
        emulator,
        b"PUT /v2/customer_sessions/chunky HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: ApiKey-v1 " + emulator.api_key.encode() + b"\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked,
    )
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert emulator.state()["sessions"]["chunky"]["cartItemTotal"] == 17.0


def test_unusual_methods_get_405_or_404(raw: Raw) -> None:
    assert raw("OPTIONS", "/v2/customer_sessions/s").status_code == 405
    assert raw("HEAD", "/v2/nothing").status_code == 404
    # the keep-alive connection is still in sync after a HEAD
    assert raw("GET", "/v2/customer_sessions/none").status_code == 404


def test_concurrent_closes_never_exceed_a_usage_limit(emulator: EmulatorHandle) -> None:
    emulator.load_campaigns(
        [
            {
                "id": 1,
                "name": "Five",
                "trigger": "coupon",
                "coupons": [{"value": "FIVE", "usageLimit": 5}],
                "effects": [{"type": "setDiscount", "amount": 1}],
            }
        ]
    )
    accepted: list[str] = []
    lock = threading.Lock()

    def close(index: int) -> None:
        with requests.Session() as http:
            http.headers["Authorization"] = f"ApiKey-v1 {emulator.api_key}"
            answer = http.put(
                f"{emulator.url}/v2/customer_sessions/c{index}",
                json={
                    "customerSession": {
                        "profileId": f"p{index}",
                        "cartItems": [COFFEE],
                        "couponCodes": ["FIVE"],
                        "state": "closed",
                    }
                },
                timeout=10,
            )
            assert answer.status_code == 200
            if any(e["effectType"] == "acceptCoupon" for e in answer.json()["effects"]):
                with lock:
                    accepted.append(f"c{index}")

    threads = [threading.Thread(target=close, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(accepted) == 5
    assert emulator.state()["coupons"]["FIVE"]["usageCounter"] == 5


def test_the_app_is_plain_wsgi() -> None:
    import io
    from wsgiref.util import setup_testing_defaults

    from django_talon.emulator import EmulatorApp
    from django_talon.emulator.app import DropConnection

    app = EmulatorApp(api_key="k", campaigns=[])
    body = json.dumps({"customerSession": {"cartItems": [COFFEE]}}).encode()
    environ: dict[str, object] = {}
    setup_testing_defaults(environ)
    environ.update(
        {
            "REQUEST_METHOD": "PUT",
            "PATH_INFO": "/v2/customer_sessions/w",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "HTTP_AUTHORIZATION": "ApiKey-v1 k",
            "CONTENT_TYPE": "application/json",
        }
    )
    seen: list[str] = []
    answer = b"".join(app(environ, lambda status, headers: seen.append(status)))
    assert seen == ["200 OK"] and json.loads(answer)["customerSession"]["integrationId"] == "w"
    app.faults.add({"kind": "drop"})
    environ["wsgi.input"] = io.BytesIO(body)
    with pytest.raises(DropConnection):  # other WSGI servers: the exception ends the connection
        app(environ, lambda status, headers: None)
