"""``manage.py demo`` (what ``make demo`` runs): both servers up, URLs printed, Ctrl-C stops both."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.resources import REPO_ROOT

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_demo_runs_emulator_and_shop_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    shop_port, emulator_port = free_port(), free_port()
    log = tmp_path / "demo.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "SHOP_DB": str(tmp_path / "demo.sqlite3"),
        "TALON_BASE_URL": f"http://127.0.0.1:{emulator_port}",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_BROKER_URL", None)
    with log.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "manage.py"), "demo", "--port", str(shop_port)],
            env=env,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while "Press Ctrl-C" not in log.read_text():
            assert demo.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        banner = log.read_text()
        assert f"Shop:      http://127.0.0.1:{shop_port}/" in banner
        assert "alice    / alice-demo-pass" in banner
        assert "Celery: eager" in banner

        with urllib.request.urlopen(f"http://127.0.0.1:{shop_port}/", timeout=10) as page:
            assert "GRINDER-X" in page.read().decode()
        state_url = f"http://127.0.0.1:{emulator_port}/_emulator/state"
        with urllib.request.urlopen(state_url, timeout=10) as response:
            state = json.load(response)
        assert [c["name"] for c in state["campaigns"]][:2] == ["Welcome 10%", "Free tote over 100"]
        # The demo accounts reached Talon.One as profiles.
        assert len(state["profiles"]) == 3

        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=30) == 0, log.read_text()
        assert not listening(shop_port)
        assert not listening(emulator_port)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()


def test_the_shop_keeps_running_when_the_emulator_stops_and_the_emulator_comes_back(
    tmp_path: Path,
) -> None:
    shop_port, emulator_port = free_port(), free_port()
    log = tmp_path / "demo.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "SHOP_DB": str(tmp_path / "demo.sqlite3"),
        "TALON_BASE_URL": f"http://127.0.0.1:{emulator_port}",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_BROKER_URL", None)
    command = [sys.executable, str(REPO_ROOT / "manage.py"), "demo", "--port", str(shop_port)]
    with log.open("wb") as out:
        demo = subprocess.Popen(
            [*command, "--emulator-restart-delay", "1"],
            env=env,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "Press Ctrl-C" in log.read_text(), demo, log)
        assert "demo/outage/" in log.read_text()
        pattern = f"django_talon.emulator --host 127.0.0.1 --port {emulator_port}"
        (pid,) = subprocess.run(
            ["pgrep", "-f", pattern], capture_output=True, text=True, check=True
        ).stdout.split()
        os.kill(int(pid), signal.SIGKILL)

        wait_for(lambda: "The emulator stopped" in log.read_text(), demo, log)
        with urllib.request.urlopen(f"http://127.0.0.1:{shop_port}/", timeout=10) as page:
            assert page.status == 200  # the shop is still up
        wait_for(lambda: "Emulator back" in log.read_text(), demo, log)
        state_url = f"http://127.0.0.1:{emulator_port}/_emulator/state"
        with urllib.request.urlopen(state_url, timeout=10) as response:
            assert len(json.load(response)["profiles"]) == 3  # customers sent again

        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=30) == 0, log.read_text()
        assert not listening(emulator_port)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()


def wait_for(condition: Any, demo: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while not condition():
        assert demo.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
