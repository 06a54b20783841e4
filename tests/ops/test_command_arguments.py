"""Management command arguments that used to be taken at face value.

- ``talon_outbox retry/purge 999999`` printed "Retried/Purged 0" and exited 0;
  ``relay --limit -1`` was a traceback and ``--limit 0`` meant the default; ``list
  --limit 0`` said there was nothing.
- ``talon_erase --integration-id '   '`` recorded a tombstone and sent
  ``DELETE /v1/customer_data/%20``; ``--list --limit 0`` said "No erasure requests."
- ``talon_sync_catalog`` told a configuration error (no ``PRODUCT_MODEL``) or a checkpoint
  file it could not write to "run the command again to resume".
- ``talon_sync_profiles`` did so too (no API key; a ``--checkpoint-file`` that is a
  directory, after sending a batch); ``--since 99999999d`` was an ``OverflowError``
  traceback; ``--max-batches 0`` ran nothing and said "Stopped after user pk None; run again
  to continue."; the ``sync_profiles`` task took ``batch_size=0`` for the default.
"""

from __future__ import annotations

import errno
import os
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from django_talon import outbox, services, tasks
from django_talon.models import DataDeletionRequest, OutboxMessage
from django_talon.services import bulk_sync
from tests.core.test_catalog_sync import catalog_settings, make_products, sync_calls
from tests.ops.carts import OpsCart

pytestmark = pytest.mark.django_db

__all__ = ["catalog_settings"]  # the fixture, imported for the catalog tests


def run(*args: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def profile_calls(emulator: Any) -> list[dict[str, Any]]:
    return emulator.control.requests("/v2/customer_profiles")  # type: ignore[no-any-return]


def make_users(count: int) -> None:
    user_model = get_user_model()
    user_model.objects.bulk_create(
        [user_model(username=f"args-{i}", password="!") for i in range(count)]
    )


def no_space(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def dead_letter(key: str = "session:dead") -> OutboxMessage:
    message: OutboxMessage = OutboxMessage.objects.create(
        operation="session.update", key=key, state=OutboxMessage.State.DEAD
    )
    return message


# -- talon_outbox -----------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["retry", "purge"])
def test_outbox_retry_and_purge_name_the_ids_that_do_not_exist(action: str) -> None:
    dead = dead_letter()
    with pytest.raises(CommandError, match=r"no outbox message with id 999999\b"):
        run("talon_outbox", action, "999999")
    with pytest.raises(CommandError, match="999998, 999999.*nothing done"):
        run("talon_outbox", action, str(dead.pk), "999998", "999999")
    dead.refresh_from_db()  # the good id of a wrong list is left alone too
    assert dead.state == OutboxMessage.State.DEAD


@pytest.mark.parametrize("action", ["retry", "purge"])
def test_outbox_retry_and_purge_refuse_messages_that_are_no_dead_letters(action: str) -> None:
    pending = OutboxMessage.objects.create(operation="session.update", key="session:p")
    with pytest.raises(CommandError, match=rf"not a dead letter: {pending.pk} \(pending\)"):
        run("talon_outbox", action, str(pending.pk))
    assert OutboxMessage.objects.filter(pk=pending.pk, state="pending").exists()


def test_outbox_purge_of_an_existing_dead_letter_still_works() -> None:
    dead = dead_letter()
    assert "Purged 1 dead letter(s)." in run("talon_outbox", "purge", str(dead.pk))
    assert not outbox.dead_letters().exists()


@pytest.mark.parametrize("limit", ["0", "-1", "abc"])
@pytest.mark.parametrize("action", ["relay", "list"])
def test_outbox_limits_must_be_positive(action: str, limit: str) -> None:
    dead_letter()
    with pytest.raises(CommandError, match="--limit: must be a positive whole number"):
        run("talon_outbox", action, "--limit", limit)


def test_outbox_relay_limit_bounds_the_keys(talon_settings: Any, talon_emulator: Any) -> None:
    services.update_cart(OpsCart(80, 1))
    services.update_cart(OpsCart(81, 1))  # pending: no on_commit in a test transaction
    assert "Relayed 1 key(s)." in run("talon_outbox", "relay", "--limit", "1")
    assert "Relayed 1 key(s)." in run("talon_outbox", "relay")


# -- talon_erase ------------------------------------------------------------------------------
@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_erase_refuses_a_blank_integration_id(blank: str, talon_emulator: Any) -> None:
    with pytest.raises(CommandError, match="--integration-id is blank"):
        run("talon_erase", "--integration-id", blank)
    assert not DataDeletionRequest.objects.exists()  # no tombstone
    assert not OutboxMessage.objects.exists()  # nothing queued
    assert not talon_emulator.control.requests("/v1/customer_data/")


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_erase_list_limit_must_be_positive(limit: str) -> None:
    DataDeletionRequest.objects.create(integration_id="user-1", requested_by="test")
    with pytest.raises(CommandError, match="--limit: must be a positive whole number"):
        run("talon_erase", "--list", "--limit", limit)
    assert "user-1" in run("talon_erase", "--list", "--limit", "1")


# -- talon_sync_catalog -------------------------------------------------------------------------
def test_catalog_without_a_product_model_is_a_configuration_error(
    settings: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    settings.TALON = {**settings.TALON, "CATALOG_ID": 7, "PRODUCT_MODEL": ""}
    with pytest.raises(CommandError) as raised:
        run("talon_sync_catalog")
    assert "PRODUCT_MODEL" in str(raised.value)
    assert "again" not in str(raised.value)


def impossible_checkpoint_paths(tmp_path: Path) -> dict[str, str]:
    """Paths no checkpoint file can have: each used to be found out only at the first save
    (after a batch was sent) and reported as an outage to resume from."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    fifo = tmp_path / "a-fifo"
    os.mkfifo(fifo)
    return {
        "directory": str(tmp_path),
        "trailing-slash": f"{tmp_path}/new/",  # was written as the file "new", its temp in tmp
        "under-a-file": str(blocker / "c.json"),
        # Not a file: os.replace replaced it (never test this with /dev/null: as root, a
        # regression would replace the system's /dev/null with a regular file).
        "fifo": str(fifo),
        "empty": "",  # was the cache checkpoint, silently
    }


IMPOSSIBLE = ["directory", "trailing-slash", "under-a-file", "fifo", "empty"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
@pytest.mark.timeout(60)  # reading a FIFO not refused blocks for good
@pytest.mark.parametrize("kind", IMPOSSIBLE)
def test_catalog_checkpoint_file_that_cannot_be_one_is_refused_before_sending(
    kind: str, catalog_settings: Any, talon_emulator: Any, tmp_path: Path
) -> None:
    make_products(3)
    path = impossible_checkpoint_paths(tmp_path)[kind]
    with pytest.raises(CommandError, match="--checkpoint-file: checkpoint file") as raised:
        run("talon_sync_catalog", "--batch-size", "2", "--checkpoint-file", path)
    assert "again" not in str(raised.value)
    assert sync_calls(talon_emulator) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
@pytest.mark.timeout(60)  # reading a FIFO not refused blocks for good
@pytest.mark.parametrize("kind", IMPOSSIBLE)
def test_profiles_checkpoint_file_that_cannot_be_one_is_refused_before_sending(
    kind: str, talon_settings: Any, talon_emulator: Any, tmp_path: Path
) -> None:
    make_users(3)
    path = impossible_checkpoint_paths(tmp_path)[kind]
    with pytest.raises(CommandError, match="--checkpoint-file: checkpoint file") as raised:
        run("talon_sync_profiles", "--batch-size", "2", "--checkpoint-file", path)
    assert "again" not in str(raised.value)
    assert profile_calls(talon_emulator) == []
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("command", "calls"),
    [("talon_sync_catalog", sync_calls), ("talon_sync_profiles", profile_calls)],
    ids=["catalog", "profiles"],
)
def test_checkpoint_that_cannot_be_saved_says_so(
    command: str,
    calls: Any,
    catalog_settings: Any,
    talon_emulator: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_products(3)
    make_users(3)
    monkeypatch.setattr(bulk_sync.os, "replace", no_space)  # a full disk, after the check
    with pytest.raises(CommandError, match="could not save the checkpoint") as raised:
        run(command, "--batch-size", "2", "--checkpoint-file", str(tmp_path / "c.json"))
    assert "ENOSPC" in str(raised.value) or "No space left" in str(raised.value)
    assert "Fix what keeps the --checkpoint-file from being written" in str(raised.value)
    assert "resume after the last delivered batch" not in str(raised.value)
    assert len(calls(talon_emulator)) == 1  # stopped at the first save
    assert list(tmp_path.iterdir()) == []  # the temporary file was removed


# -- talon_sync_profiles ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "talon", [{"API_KEY": ""}, {"ADAPTER": "no_such_module.Adapter"}], ids=["key", "adapter"]
)
def test_profiles_configuration_error_is_no_outage(
    talon: dict[str, Any], settings: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    make_users(2)
    settings.TALON = {**settings.TALON, **talon}
    with pytest.raises(CommandError, match="bulk sync stopped") as raised:
        run("talon_sync_profiles", "--restart")
    assert "again" not in str(raised.value)
    assert ("api_key" in str(raised.value)) or ("no_such_module" in str(raised.value))


def test_profiles_outage_still_says_run_again(talon_settings: Any, talon_emulator: Any) -> None:
    make_users(2)
    talon_emulator.control.add_fault(kind="error", status=503, path="/v2/customer_profiles")
    with pytest.raises(CommandError, match="Run the command again to resume"):
        run("talon_sync_profiles", "--restart")


@pytest.mark.parametrize("since", ["99999999d", "9999999999999w", "2026-13-01", "0001-01-01"])
def test_profiles_since_out_of_range_names_the_option(
    since: str, settings: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"  # year 1 at midnight there is year 0 in UTC
    make_users(1)
    with pytest.raises(CommandError, match=rf"^--since '{since}': "):
        run("talon_sync_profiles", "--since", since)
    assert profile_calls(talon_emulator) == []


@pytest.mark.parametrize("command", ["talon_sync_profiles", "talon_sync_catalog"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_max_batches_must_be_positive(
    command: str, value: str, catalog_settings: Any, talon_emulator: Any
) -> None:
    make_users(1)
    make_products(1)
    with pytest.raises(CommandError, match="--max-batches: must be a positive whole number"):
        run(command, "--max-batches", value)
    assert talon_emulator.control.requests() == []


@pytest.mark.parametrize("value", [0, -3, 5000, True, "10", 2.5])
def test_sync_profiles_task_refuses_the_batch_size_the_command_refuses(
    value: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    make_users(1)
    with pytest.raises(ValueError, match=r"batch_size must be between 1 and 1000"):
        tasks.sync_profiles(batch_size=value)
    if isinstance(value, int) and not isinstance(value, bool):
        with pytest.raises(CommandError, match="--batch-size must be between 1 and 1000"):
            run("talon_sync_profiles", "--batch-size", str(value))
    assert profile_calls(talon_emulator) == []


@pytest.mark.parametrize("value", [0, -1])
def test_sync_profiles_task_refuses_max_batches_below_one(
    value: int, talon_settings: Any, talon_emulator: Any
) -> None:
    make_users(1)
    with pytest.raises(ValueError, match="max_batches must be a whole number >= 1"):
        tasks.sync_profiles(max_batches=value)
    assert tasks.sync_profiles(batch_size=1, max_batches=1)["batches"] == 1
