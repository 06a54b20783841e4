"""The README's "Using the client" example runs as written.

It runs against a tiny local HTTP stub standing in for Talon.One (only the base URL is
swapped), which checks the request the example sends and answers like the emulator's
"Welcome 10%" campaign would.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.client.support import JSONHandler, serve_http
from tests.resources import REPO_ROOT

EXAMPLE_URL = "http://127.0.0.1:9100"
EXAMPLE_KEY = "local-dev-key"


def readme_example() -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using the client", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README.md has no python block under 'Using the client'"
    return match.group(1)


class _Stub(JSONHandler):
    received: list[dict[str, Any]] = []

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        self.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.headers.get("Authorization") != f"ApiKey-v1 {EXAMPLE_KEY}":
            self.send_json(401, {"message": "Unauthorized", "errors": []})
            return
        if not self.path.startswith("/v2/customer_sessions/"):
            self.send_json(404, {"message": "Not found", "errors": []})
            return
        items = body["customerSession"]["cartItems"]
        subtotal = sum(item["price"] * item["quantity"] for item in items)
        effects = [
            {
                "campaignId": 1,
                "rulesetId": 1,
                "ruleIndex": 0,
                "ruleName": "Welcome 10%",
                "effectType": effect_type,
                "props": props,
            }
            for effect_type, props in (
                ("acceptCoupon", {"value": "WELCOME10"}),
                ("setDiscount", {"name": "Welcome 10%", "value": round(subtotal * 0.1, 2)}),
            )
        ]
        self.send_json(200, {"effects": effects, "createdCoupons": [], "createdReferrals": []})


@pytest.fixture
def stub_url() -> Iterator[str]:
    _Stub.received = []
    with serve_http(_Stub) as url:
        yield url


def test_readme_client_example_runs(stub_url: str) -> None:
    code = readme_example()
    assert EXAMPLE_URL in code, "the example's base URL changed; update this test"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.replace(EXAMPLE_URL, stub_url), "README.md", "exec"), {})
    [request] = _Stub.received
    assert request["path"] == "/v2/customer_sessions/cart-42"
    assert request["headers"]["User-Agent"].startswith("django-talon/")
    assert request["body"]["customerSession"]["cartItems"][0]["price"] == 24.5
    lines = out.getvalue().splitlines()
    assert lines == [
        "acceptCoupon {'value': 'WELCOME10'}",
        "setDiscount {'name': 'Welcome 10%', 'value': 4.9}",
    ]


def test_readme_client_example_runs_against_the_emulator(talon_emulator: Any) -> None:
    """The same example against the real local emulator (demo campaigns), as the README says."""
    code = readme_example()
    assert 'api_key="local-dev-key"' in code
    code = code.replace(EXAMPLE_URL, talon_emulator.url).replace(
        'api_key="local-dev-key"', f"api_key={talon_emulator.api_key!r}"
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    printed = out.getvalue().splitlines()
    effect_types = [line.split(" ", 1)[0] for line in printed]
    assert "acceptCoupon" in effect_types and "setDiscount" in effect_types, printed
    assert "acceptCoupon {'value': 'WELCOME10'}" in printed
