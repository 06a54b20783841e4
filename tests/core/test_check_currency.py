"""``talon_check`` says which currency it assumes, and warns when the emulator's differs.

``TALON["CURRENCY"]`` drives the quote's and the ledger's rounding; a value that is not the
Application's was silent everywhere (``talon_check`` said "configuration OK"). The
Integration API has no currency field; the emulator's state has the Application's.
"""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from django_talon.management.commands.talon_check import emulator_currency

pytestmark = pytest.mark.django_db


def run(*args: Any) -> str:
    out = StringIO()
    call_command("talon_check", "--skip-outbox", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_assumed_currency_is_printed_and_matches_the_emulator(
    settings: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    settings.TALON = {**settings.TALON, "CURRENCY": "EUR"}  # the demo Application's
    output = run()
    assert "Currency:  EUR (TALON['CURRENCY']" in output
    assert "the emulator's Application: EUR" in output
    assert "WARNING" not in output and "configuration OK" in output

    report = json.loads(run("--json"))
    assert report["currency"] == "EUR"
    assert report["application_currency"] == {"currency": "EUR"}
    assert report["warnings"] == []


def test_a_currency_the_emulator_application_does_not_have_is_a_warning(
    settings: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    settings.TALON = {**settings.TALON, "CURRENCY": "JPY"}
    output = run()
    assert "Currency:  JPY" in output
    assert (
        "WARNING:   TALON['CURRENCY'] is 'JPY' but the emulator's Application currency is "
        "'EUR'" in output
    )
    assert "round them to 0 decimal(s) (the Application's currency has 2)" in output
    assert "configuration OK" in output, "a warning, not a failure"

    report = json.loads(run("--json"))
    assert report["ok"] is True
    (warning,) = report["warnings"]
    assert "'JPY'" in warning and "'EUR'" in warning
    # The state read is a control call: not an Integration API call, not in the call log.
    assert [c["query"].get("dry") for c in talon_emulator.control.requests()] == ["true"] * 2


def test_several_applications_are_each_compared(
    settings: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    settings.TALON = {
        **settings.TALON,
        "APPLICATIONS": {
            "eur": {"API_KEY": talon_emulator.api_key, "CURRENCY": "EUR"},
            "usd": {"API_KEY": talon_emulator.api_key, "CURRENCY": "USD"},
        },
    }
    report = json.loads(run("--json"))
    apps = report["applications"]
    assert (
        apps["eur"]["application_currency"]
        == apps["usd"]["application_currency"]
        == {"currency": "EUR"}
    )
    (warning,) = report["warnings"]
    assert warning.startswith("Application 'usd' CURRENCY is 'USD'")


def test_a_real_deployment_is_not_asked_for_emulator_state() -> None:
    found = emulator_currency("https://acme.europe-west1.talon.one")
    assert found == {
        "currency": None,
        "why": "not the emulator: check the Application's settings",
    }


def test_a_local_url_without_an_emulator_says_so() -> None:
    found = emulator_currency("http://127.0.0.1:9")  # nothing listens there
    assert found["currency"] is None and found["why"].startswith("no emulator state")
