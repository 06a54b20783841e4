"""Management command input that used to end in a traceback, a lie, or a lost request.

- ``talon_erase --integration-id <5000 chars>``: a DataError (PostgreSQL) or, on SQLite, a
  recorded request, purged local data and a DELETE refused for ever by the client.
- ``talon_outbox list | head -1`` (and ``talon_erase --list``): a BrokenPipeError traceback.
- Huge ids, ``--limit`` values and ``--older-than`` ages: OverflowError / database errors;
  ``talon_reconcile list --limit 0`` said there was nothing while a discrepancy was open.
- ``talon_reconcile recheck 12345`` said "Re-checked 0" and succeeded; ``export --output``
  to a missing directory was a FileNotFoundError traceback.
- ``talon_emulator --port 99999`` / a campaigns file that is not JSON: tracebacks.
- ``talon_outbox retry --all`` while Talon.One answered 503 said "Retried 1" as if sent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from django_talon import outbox, services
from django_talon.client.validation import MAX_INTEGRATION_ID_LENGTH
from django_talon.management.arguments import MAX_COUNT
from django_talon.models import DataDeletionRequest, Discrepancy, OutboxMessage
from tests.ops.carts import OpsCart
from tests.ops.test_reconcile_command import order_with_welcome, shop
from tests.resources import REPO_ROOT

pytestmark = pytest.mark.django_db

__all__ = ["shop"]  # the fixture, imported for the reconciliation tests

HUGE = "99999999999999999999"


def run(*args: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


# -- 1. an integration id over Talon.One's limit ------------------------------------------------
def test_erase_refuses_an_integration_id_over_the_limit(talon_emulator: Any) -> None:
    too_long = "x" * (MAX_INTEGRATION_ID_LENGTH + 1)
    with pytest.raises(
        CommandError, match=rf"at most {MAX_INTEGRATION_ID_LENGTH}.*nothing recorded"
    ):
        run("talon_erase", "--integration-id", too_long)
    assert not DataDeletionRequest.objects.exists()
    assert not talon_emulator.control.requests("/v1/customer_data/")
    with pytest.raises(ValueError, match=f"over {MAX_INTEGRATION_ID_LENGTH} characters"):
        services.erase_customer(None, integration_id=too_long, requested_by="test")
    assert not DataDeletionRequest.objects.exists()


# -- 2. a reader that stops early -----------------------------------------------------------
SEED_AND_RUN = """
import sys
import django
django.setup()
from django.core.management import call_command, execute_from_command_line
call_command("migrate", verbosity=0)
from django_talon.models import DataDeletionRequest, OutboxMessage
OutboxMessage.objects.bulk_create(
    [OutboxMessage(operation="profile.update", key=f"profile:p{i}", state="done") for i in range(3000)]
)
DataDeletionRequest.objects.bulk_create(
    [DataDeletionRequest(integration_id=f"gone-{i}", state="completed") for i in range(3000)]
)
execute_from_command_line(["manage.py", *sys.argv[1:]])
"""


@pytest.mark.parametrize(
    "args",
    [
        ["talon_outbox", "list", "--state", "all", "--limit", "100000"],
        ["talon_outbox", "list", "--state", "all", "--limit", "100000", "--json"],
        ["talon_erase", "--list", "--limit", "100000"],
    ],
    ids=["outbox-text", "outbox-json", "erase"],
)
def test_listing_into_head_stops_quietly(args: list[str]) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env.pop("TALON_TEST_DB", None)  # an in-memory SQLite database of the child's own
    proc = subprocess.Popen(
        [sys.executable, "-c", SEED_AND_RUN, *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # like `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert first.strip()
    assert "Traceback" not in err and "BrokenPipe" not in err, err


# -- 3./4. numbers out of range ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["talon_outbox", "retry", HUGE], "argument ids: not an id"),
        (["talon_outbox", "purge", HUGE], "argument ids: not an id"),
        (["talon_outbox", "retry", "0"], "argument ids: not an id"),
        (["talon_outbox", "list", "--limit", HUGE], "argument --limit: must be at most"),
        (["talon_outbox", "relay", "--limit", HUGE], "argument --limit: must be at most"),
        (["talon_erase", "--list", "--limit", HUGE], "argument --limit: must be at most"),
        (["talon_reconcile", "recheck", HUGE], "argument ids: not an id"),
        (["talon_reconcile", "list", "--limit", "0"], "argument --limit: must be a positive"),
        (["talon_reconcile", "list", "--limit", "-1"], "argument --limit: must be a positive"),
        (["talon_reconcile", "list", "--limit", HUGE], "argument --limit: must be at most"),
        (["talon_outbox", "purge", "--older-than", "999999d"], "--older-than '999999d': out of"),
        (["talon_outbox", "purge", "--older-than", "99999999999d"], "--older-than .*: out of"),
        (["talon_emulator", "--port", "-1"], "argument --port: must be a port from 0 to 65535"),
        (["talon_emulator", "--port", "99999"], "argument --port: must be a port from 0 to 65535"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(args: list[str], message: str) -> None:
    dead = OutboxMessage.objects.create(operation="session.update", key="session:d", state="dead")
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert OutboxMessage.objects.filter(pk=dead.pk, state="dead").exists()  # nothing done


def test_the_largest_limit_still_works(talon_settings: Any, talon_emulator: Any) -> None:
    OutboxMessage.objects.create(operation="session.update", key="session:d", state="dead")
    assert "session:d" in run("talon_outbox", "list", "--limit", str(MAX_COUNT))
    assert "No erasure requests." in run("talon_erase", "--list", "--limit", str(MAX_COUNT))
    assert "Relayed 0 key(s)." in run("talon_outbox", "relay", "--limit", str(MAX_COUNT))
    assert "No open discrepancies." in run("talon_reconcile", "list", "--limit", str(MAX_COUNT))


# -- 5./6. talon_reconcile recheck and export ----------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_recheck_names_ids_that_are_no_open_discrepancy(shop: Any) -> None:
    order_with_welcome(shop, percent_at_close=5)
    order_with_welcome(shop, percent_at_close=2)  # charged at 5 %: a second discrepancy
    first, second = Discrepancy.objects.order_by("id")
    Discrepancy.objects.filter(pk=second.pk).update(status="resolved")
    with pytest.raises(CommandError, match=r"no discrepancy with id 12345\b.*nothing re-checked"):
        run("talon_reconcile", "recheck", str(first.pk), "12345")
    with pytest.raises(CommandError, match=rf"not open: {second.pk} \(resolved\)"):
        run("talon_reconcile", "recheck", str(second.pk))
    first.refresh_from_db()
    assert first.checked_at is None  # the good id of a wrong list was left alone
    assert "Re-checked 1 discrepancy(ies)" in run("talon_reconcile", "recheck", str(first.pk))


@pytest.mark.parametrize("where", ["missing/out.json", "."])
def test_export_to_an_unwritable_path_names_it(where: str, tmp_path: Path) -> None:
    target = tmp_path / where
    with pytest.raises(CommandError, match=rf"--output {target}: cannot write"):
        run("talon_reconcile", "export", "--output", str(target))


# -- 7. talon_emulator -------------------------------------------------------------------
def test_emulator_refuses_a_campaigns_file_that_is_not_json(tmp_path: Path) -> None:
    bad = tmp_path / "campaigns.json"
    bad.write_text("{not json")
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(CommandError, match=rf"campaign file {bad} is not valid: "):
        run("talon_emulator", "--campaigns", str(bad), "--port", "0")
    assert signal.getsignal(signal.SIGTERM) == before


# -- 8. talon_outbox retry while Talon.One is down -------------------------------------------
def test_retry_says_what_was_delivered_and_what_is_pending_again(
    settings: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    settings.TALON = {**settings.TALON, "DELIVERY": "sync"}
    session = services.update_cart(OpsCart(9, 2))
    talon_emulator.control.add_fault(kind="error", status=400, path="/v2/customer_sessions/*")
    outbox.deliver_key(f"session:{session.integration_id}")
    (dead,) = outbox.dead_letters()
    talon_emulator.control.clear_faults()
    talon_emulator.control.add_fault(kind="error", status=503, path="/v2/customer_sessions/*")

    output = run("talon_outbox", "retry", "--all")
    assert "Retried 1 dead letter(s). 0 delivered, 1 pending again, 0 dead again." in output
    assert "could not be delivered yet" in output
    dead.refresh_from_db()
    assert dead.state == "pending"

    talon_emulator.control.clear_faults()
    OutboxMessage.objects.filter(pk=dead.pk).update(state="dead")
    output = run("talon_outbox", "retry", str(dead.pk))
    assert "Retried 1 dead letter(s). 1 delivered, 0 pending again, 0 dead again." in output
    assert "could not" not in output
