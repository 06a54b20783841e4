"""Browser tests: Playwright drives Debian's Chromium against the example shop.

The shop runs as a real server (``manage.py runserver --noreload`` in a subprocess) on a
temporary SQLite database, pointed at the ``talon_emulator`` fixture's emulator, so every
request crosses the same HTTP boundaries as ``make demo``. The database with the demo data
is built once per session and copied for each test (fresh state, no migrations per test).

Chromium is never downloaded: without ``/usr/bin/chromium`` (or ``TALON_CHROMIUM``) the
tests skip with the reason, which ``TALON_STRICT_TESTS=1`` turns into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.resources import REPO_ROOT, require_chromium

ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _shop_env(db: Path, talon_url: str, api_key: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="example_project.settings",
        SHOP_DB=str(db),
        TALON_BASE_URL=talon_url,
        TALON_API_KEY=api_key,
        SHOP_DEBUG="1",  # tracebacks in failure screenshots; static files served
        PYTHONUNBUFFERED="1",
    )
    env.pop("CELERY_BROKER_URL", None)  # eager Celery, as in the demo
    return env


@pytest.fixture(scope="session")
def shop_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo catalog and accounts (built once)."""
    db = tmp_path_factory.mktemp("shop") / "template.sqlite3"
    # Talon.One is unreachable while building the template: nothing must depend on it.
    env = _shop_env(db, "http://127.0.0.1:9", "setup-key")
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage.py"), "demo", "--setup-only"],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return db


class ShopServer:
    """A running example shop: ``url``, plus the log for failure reports."""

    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path, db: Path) -> None:
        self.url = url
        self.process = process
        self.log = log
        self.db = db

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def shop(shop_template_db: Path, talon_emulator: Any, tmp_path: Path) -> Iterator[ShopServer]:
    """The example shop on a fresh copy of the demo database, talking to the emulator."""
    require_chromium()
    db = tmp_path / "shop.sqlite3"
    shutil.copyfile(shop_template_db, db)
    port = _free_port()
    log = tmp_path / "runserver.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                str(REPO_ROOT / "manage.py"),
                "runserver",
                "--noreload",
                f"127.0.0.1:{port}",
            ],
            env=_shop_env(db, talon_emulator.url, talon_emulator.api_key),
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = ShopServer(f"http://127.0.0.1:{port}", process, log, db)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the shop exited early:\n{log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the shop did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module, closed with it: Playwright's sync API keeps its event
    loop alive while open, and the rest of the suite should not run beside it."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[Any]:
    """Remember each phase's report on the item so fixtures know whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def new_page(browser: Any, shop: ShopServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Factory for pages in separate browser contexts (one per shopper); on failure every
    page is screenshotted into test-artifacts/ and the shop's log is printed."""
    contexts: list[Any] = []
    pages: list[Any] = []

    def make() -> Any:
        context = browser.new_context(base_url=shop.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        return page

    yield make
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for index, page in enumerate(pages):
            target = ARTIFACTS / f"{request.node.name}-{index}.png"
            page.screenshot(path=str(target), full_page=True)
            print(f"screenshot: {target}")
        print(f"--- shop log ---\n{shop.log.read_text()}")
    for context in contexts:
        context.close()
