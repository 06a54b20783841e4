"""Management commands against the emulator over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from django_talon import services
from django_talon.models import CustomerProfile, DataDeletionRequest, OutboxMessage
from tests.ops.carts import OpsCart
from tests.resources import REPO_ROOT

pytestmark = pytest.mark.django_db


def run(*args: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def make_users(count: int) -> None:
    user_model = get_user_model()
    user_model.objects.bulk_create(
        [user_model(username=f"cmd-{i}", password="!") for i in range(count)]
    )


# -- talon_sync_profiles ----------------------------------------------------------------------
def test_sync_profiles_progress_and_summary(talon_settings: Any, talon_emulator: Any) -> None:
    make_users(25)
    output = run("talon_sync_profiles", "--batch-size", "10", "--restart")

    assert "10/25 users" in output and "25/25 users" in output  # one progress line per batch
    assert "Sent 25 profile(s) in 3 batch(es) (3 API call(s)); 0 unchanged." in output
    assert "complete" in output
    assert len(talon_emulator.control.requests("/v2/customer_profiles")) == 3

    again = run("talon_sync_profiles", "--batch-size", "10")
    assert "Sent 0 profile(s)" in again and "25 unchanged" in again


def test_sync_profiles_resumes_with_a_checkpoint_file(
    talon_settings: Any, talon_emulator: Any, tmp_path: Path
) -> None:
    make_users(25)
    checkpoint = str(tmp_path / "cp.json")
    first = run(
        "talon_sync_profiles", "--batch-size", "10", "--max-batches", "1",
        "--checkpoint-file", checkpoint,
    )  # fmt: skip
    assert "Stopped after user pk" in first and Path(checkpoint).exists()

    second = run("talon_sync_profiles", "--batch-size", "10", "--checkpoint-file", checkpoint)
    assert "Resumed after user pk" in second
    assert "Sent 15 profile(s)" in second
    assert not Path(checkpoint).exists()


def test_sync_profiles_dry_run_and_since(talon_settings: Any, talon_emulator: Any) -> None:
    make_users(3)
    output = run("talon_sync_profiles", "--dry-run", "--since", "7d", "-v", "0")
    assert "Dry run: would send 3 profile(s)" in output
    assert "First payload item: {'integrationId': 'user-" in output
    assert talon_emulator.control.requests() == []
    assert not CustomerProfile.objects.exists()

    with pytest.raises(CommandError, match="--since"):
        run("talon_sync_profiles", "--since", "yesterday-ish")
    with pytest.raises(CommandError, match="between 1 and 1000"):
        run("talon_sync_profiles", "--batch-size", "5000")


def test_sync_profiles_reports_an_outage_and_how_to_resume(
    talon_settings: Any, talon_emulator: Any
) -> None:
    make_users(2)
    talon_emulator.control.add_fault(kind="error", status=400, path="/v2/customer_profiles")
    with pytest.raises(CommandError, match="Run the command again to resume"):
        run("talon_sync_profiles", "--restart")


# -- talon_check ------------------------------------------------------------------------------
def test_check_ok_without_showing_the_key(talon_settings: Any, talon_emulator: Any) -> None:
    output = run("talon_check")
    assert "API:       OK" in output and "configuration OK" in output
    assert talon_emulator.api_key not in output
    (call,) = talon_emulator.control.requests()
    assert call["query"].get("dry") == "true" and call["status"] == 200

    report = json.loads(run("talon_check", "--json"))
    assert report["ok"] is True and report["api"]["ok"] is True
    assert report["api_key"].startswith("set (")
    assert report["outbox"] == {
        "pending": 0,
        "dead": 0,
        "done": 0,
        "oldest_pending_age_s": None,
        "unconfigured_applications": {},
    }


def test_check_fails_on_a_wrong_key_and_on_dead_letters(
    settings: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    OutboxMessage.objects.create(operation="session.update", key="session:x", state="dead")
    with pytest.raises(CommandError, match="dead outbox message"):
        run("talon_check")

    settings.TALON = {**settings.TALON, "API_KEY": "wrong-key-123"}
    out = StringIO()
    with pytest.raises(CommandError, match="rejected \\(401\\)") as excinfo:
        call_command("talon_check", "--skip-outbox", stdout=out)
    assert "wrong-key-123" not in str(excinfo.value) + out.getvalue()


def test_check_fails_when_talon_is_unreachable(settings: Any) -> None:
    settings.TALON = {**settings.TALON, "BASE_URL": "http://127.0.0.1:9", "TIMEOUT": 0.5}
    with pytest.raises(CommandError, match="cannot reach Talon.One"):
        run("talon_check", "--skip-outbox")


# -- talon_outbox -----------------------------------------------------------------------------
def test_outbox_list_retry_purge(settings: Any, talon_settings: Any, talon_emulator: Any) -> None:
    settings.TALON = {**settings.TALON, "DELIVERY": "sync"}
    from django_talon import outbox

    session = services.update_cart(OpsCart(9, 2))
    key = f"session:{session.integration_id}"
    talon_emulator.control.add_fault(kind="error", status=400, path="/v2/customer_sessions/*")
    outbox.deliver_key(key)  # 400 = permanent: a dead letter at once
    (dead,) = outbox.dead_letters()

    listing = run("talon_outbox", "list")
    assert str(dead.pk) in listing and "session.update" in listing and "400" in listing
    rows = [json.loads(line) for line in run("talon_outbox", "list", "--json").splitlines()]
    assert [r["id"] for r in rows] == [dead.pk]
    assert "No pending outbox messages." in run("talon_outbox", "list", "--state", "pending")

    with pytest.raises(CommandError, match="which dead letters"):
        run("talon_outbox", "retry")
    talon_emulator.control.clear_faults()
    assert "Retried 1 dead letter(s)." in run("talon_outbox", "retry", str(dead.pk))
    dead.refresh_from_db()
    assert dead.state == "done"

    OutboxMessage.objects.create(operation="session.update", key="session:y", state="dead")
    with pytest.raises(CommandError, match="which dead letters"):
        run("talon_outbox", "purge")
    assert "Purged 0" in run("talon_outbox", "purge", "--older-than", "7d")
    assert "Purged 1 dead letter(s)." in run("talon_outbox", "purge", "--all")
    assert not outbox.dead_letters().exists()


def test_outbox_relay_and_sweep(settings: Any, talon_settings: Any, talon_emulator: Any) -> None:
    services.update_cart(OpsCart(10, 1))  # pending: on_commit never fires in a test transaction
    assert "Relayed 1 key(s)." in run("talon_outbox", "relay")
    assert "Re-drove 0 stranded key(s)" in run("talon_outbox", "sweep")
    assert not OutboxMessage.objects.filter(state="pending").exists()


# -- talon_erase ------------------------------------------------------------------------------
def test_erase_records_purges_and_confirms(talon_settings: Any, talon_emulator: Any) -> None:
    user = get_user_model().objects.create(username="gdpr", password="!")
    services.sync_profile(user)

    output = run("talon_erase", "--user", str(user.pk), "--requested-by", "ticket:42")
    assert "local data purged" in output and "Talon.One confirmed the erasure." in output
    request = DataDeletionRequest.objects.get()
    assert request.state == "completed" and request.requested_by == "ticket:42"
    assert CustomerProfile.objects.get().user is None
    deletes = talon_emulator.control.requests("/v1/customer_data/")
    assert [d["method"] for d in deletes] == ["DELETE"]

    listing = run("talon_erase", "--list")
    assert "completed" in listing and "ticket:42" in listing
    assert "No erasure requests." in run("talon_erase", "--list", "--pending")
    assert "0 of 0 unconfirmed" in run("talon_erase", "--retry")


def test_erase_unconfirmed_is_reported_and_retried(
    talon_settings: Any, talon_emulator: Any
) -> None:
    talon_emulator.control.add_fault(kind="error", status=503, path="/v1/customer_data/*")
    output = run("talon_erase", "--integration-id", "user-gone")
    assert "Not confirmed yet" in output
    assert "pending" in run("talon_erase", "--list", "--pending")
    with pytest.raises(CommandError, match="still unconfirmed"):
        run("talon_erase", "--retry")
    talon_emulator.control.clear_faults()
    assert "1 of 1 unconfirmed erasure(s) now confirmed." in run("talon_erase", "--retry")

    with pytest.raises(CommandError, match="no user"):
        run("talon_erase", "--user", "424242")
    with pytest.raises(CommandError, match="--user PK"):
        run("talon_erase")


# -- talon_emulator ---------------------------------------------------------------------------
def test_emulator_command_serves_with_the_project_key(tmp_path: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONUNBUFFERED": "1"}
    env.pop("TALON_TEST_DB", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "django", "talon_emulator", "--port", "0"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "stderr.txt").open("w"),  # system check warnings go there
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the command's first line, printed once it listens
        assert "listening on http://" in first, first + (tmp_path / "stderr.txt").read_text()
        url = first.rsplit(" ", 1)[-1].strip()
        assert requests.get(f"{url}/_emulator/state", timeout=5).status_code == 200
        # tests.settings' API key is the one the emulator expects.
        ok = requests.put(
            f"{url}/v2/customer_sessions/cmd-check",
            json={"customerSession": {"state": "open"}},
            headers={"Authorization": "ApiKey-v1 test-api-key"},
            timeout=5,
        )
        assert ok.status_code == 200, ok.text
        wrong = requests.put(
            f"{url}/v2/customer_sessions/cmd-check",
            json={"customerSession": {"state": "open"}},
            headers={"Authorization": "ApiKey-v1 nope"},
            timeout=5,
        )
        assert wrong.status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rest, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
    assert proc.returncode == 0, rest
    assert "emulator stopped" in rest


def test_emulator_command_rejects_a_missing_campaigns_file(settings: Any) -> None:
    with pytest.raises(CommandError, match="campaigns file not found"):
        run("talon_emulator", "--campaigns", "/nonexistent/campaigns.json", "--port", "0")


def test_progress_bar_stays_on_one_line_on_a_terminal() -> None:
    from django.core.management.base import OutputWrapper

    from django_talon.management.commands.talon_sync_profiles import ProgressBar
    from django_talon.services.bulk_sync import BulkSyncProgress

    class Terminal(StringIO):
        def isatty(self) -> bool:
            return True

    raw = Terminal()
    bar = ProgressBar(OutputWrapper(raw))
    for done in (10, 20):
        bar(
            BulkSyncProgress(
                processed=done, total=20, sent=done, unchanged=0, batches=done // 10, last_pk=done
            )
        )
    bar.close()
    text = raw.getvalue()
    assert text.count("\r") == 2 and text.count("\n") == 1 and text.endswith("\n")
    assert "[" + "#" * 30 + "] 20/20 users" in text


def test_check_reports_the_kill_switch(talon_settings: Any, talon_emulator: Any) -> None:
    from django_talon import resilience

    resilience.set_kill_switch(True)
    try:
        with pytest.raises(CommandError, match="kill switch is on"):
            run("talon_check", "--skip-outbox")
    finally:
        resilience.set_kill_switch(False)


def test_emulator_command_defaults_follow_the_settings(settings: Any) -> None:
    from django_talon.management.commands.talon_emulator import default_campaigns, default_port

    settings.TALON = {**settings.TALON, "BASE_URL": "http://localhost:9234"}
    assert default_port() == 9234  # the shop already points at this port
    settings.TALON = {**settings.TALON, "BASE_URL": "https://acme.europe-west1.talon.one"}
    assert default_port() == 9100  # EMULATOR_PORT
    assert default_campaigns().endswith("campaigns/demo.json")
    settings.TALON = {**settings.TALON, "EMULATOR_CAMPAIGNS": "/srv/campaigns.toml"}
    assert default_campaigns() == "/srv/campaigns.toml"


def test_relative_since_resumes_the_interrupted_run(
    talon_settings: Any, talon_emulator: Any, tmp_path: Path
) -> None:
    """``--since 7d`` is a different instant on every run; the resumed run keeps the first."""
    make_users(25)
    checkpoint = str(tmp_path / "cp.json")
    args = ["--since", "7d", "--batch-size", "10", "--checkpoint-file", checkpoint]
    assert "Stopped after" in run("talon_sync_profiles", *args, "--max-batches", "1")
    second = run("talon_sync_profiles", *args)
    assert "Resumed after user pk" in second and "Sent 15 profile(s)" in second
