"""Management command arguments that used to be taken at face value.

- ``talon_outbox retry/purge 999999`` printed "Retried/Purged 0" and exited 0;
  ``relay --limit -1`` was a traceback and ``--limit 0`` meant the default; ``list
  --limit 0`` said there was nothing.
- ``talon_erase --integration-id '   '`` recorded a tombstone and sent
  ``DELETE /v1/customer_data/%20``; ``--list --limit 0`` said "No erasure requests."
- ``talon_sync_catalog`` told a configuration error (no ``PRODUCT_MODEL``) or a checkpoint
  file it could not write to "run the command again to resume".
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from django_talon import outbox, services
from django_talon.models import DataDeletionRequest, OutboxMessage
from tests.core.test_catalog_sync import catalog_settings, make_products, sync_calls
from tests.ops.carts import OpsCart

pytestmark = pytest.mark.django_db

__all__ = ["catalog_settings"]  # the fixture, imported for the catalog tests


def run(*args: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


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


def test_catalog_checkpoint_file_that_is_a_directory_is_refused_before_sending(
    catalog_settings: Any, talon_emulator: Any, tmp_path: Path
) -> None:
    make_products(3)
    with pytest.raises(CommandError, match="is a directory") as raised:
        run("talon_sync_catalog", "--checkpoint-file", str(tmp_path))
    assert "again" not in str(raised.value)
    assert sync_calls(talon_emulator) == []


def test_catalog_checkpoint_that_cannot_be_saved_says_so(
    catalog_settings: Any, talon_emulator: Any, tmp_path: Path
) -> None:
    make_products(3)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(CommandError, match="could not save the checkpoint") as raised:
        run("talon_sync_catalog", "--batch-size", "2", "--checkpoint-file", str(blocker / "c"))
    assert "resume after the last delivered batch" not in str(raised.value)
    assert len(sync_calls(talon_emulator)) == 1  # stopped at the first save
