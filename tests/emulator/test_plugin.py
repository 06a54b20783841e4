"""The pytest plugin as a shop would use it: a separate pytest run on a tiny project."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.resources import REPO_ROOT

SHOP_TESTS = """
import pytest
import requests


def test_session(talon_emulator):
    client = talon_emulator.client()
    state = client.update_customer_session_v2("s1", {"cartItems": [
        {"sku": "ESPRESSO-250", "price": 8.5, "quantity": 1, "category": "coffee"}],
        "couponCodes": ["WELCOME10"]})
    assert "acceptCoupon" in [e.effect_type for e in state.effects]
    assert talon_emulator.requests("/v2/")[0]["status"] == 200


def test_state_was_reset(talon_emulator):
    assert talon_emulator.state()["sessions"] == {}


@pytest.mark.talon_fault(kind="error", status=503, times=1)
def test_fault_marker(talon_emulator):
    answer = requests.get(talon_emulator.url + "/v2/customer_sessions/x",
                          headers={"Authorization": "ApiKey-v1 " + talon_emulator.api_key})
    assert answer.status_code == 503


def test_fault_from_the_command_line_option(talon_emulator):
    # --talon-emulator-fault (see the run below) is installed at every reset, this path only
    assert [f["status"] for f in talon_emulator.state()["faults"]] == [418]
    answer = requests.delete(talon_emulator.url + "/v1/customer_data/x",
                             headers={"Authorization": "ApiKey-v1 " + talon_emulator.api_key})
    assert answer.status_code == 418


def test_checked_answer(talon_emulator):
    requests.get(talon_emulator.url + "/v2/customer_sessions/missing")
"""

CHECKER = """
def check(answer):
    assert answer["status"] != 401, "unauthenticated call"
"""


def test_plugin_in_a_shop_project(tmp_path: Path) -> None:
    (tmp_path / "test_shop.py").write_text(textwrap.dedent(SHOP_TESTS))
    (tmp_path / "shopcheck.py").write_text(CHECKER)
    (tmp_path / "pytest.ini").write_text("[pytest]\ntalon_emulator_check = shopcheck:check\n")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(REPO_ROOT)])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:django",
            "--talon-emulator-fault",
            "error:status=418,path=/v1/customer_data/*",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert "5 passed, 1 error" in output, output
    assert "GET /v2/customer_sessions/missing -> 401: unauthenticated call" in output, output
