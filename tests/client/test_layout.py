"""The client's rooms (issue 9): split modules, unchanged import paths, one way to send.

``client.py`` and ``effects.py`` were split into ``operations/`` and ``effects/``; shops,
the Django layer and the emulator import from the old paths, so those must keep every public
name, and the split must not have added a second way to reach the transport.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import django_talon.client as client_package
from django_talon.client import TalonClient, effects
from django_talon.client.effects import EFFECT_TYPES, Effect, UnknownEffect
from django_talon.client.operations import OperationGroup

CLIENT_DIR = Path(client_package.__file__).parent


@pytest.mark.parametrize(
    "module", ["django_talon.client", "django_talon.client.client", "django_talon.client.effects"]
)
def test_every_public_name_is_importable_from_its_old_path(module: str) -> None:
    imported = importlib.import_module(module)
    missing = [name for name in imported.__all__ if not hasattr(imported, name)]
    assert missing == []


def test_the_effects_package_still_offers_what_the_single_module_did() -> None:
    # Names used outside __all__ before the split (models, promotions, the emulator).
    for name in ("to_decimal", "to_int", "to_str", "to_bool", "to_list", "to_dict"):
        assert callable(getattr(effects, name))
    assert callable(effects.v1_effect_to_v2) and callable(effects.encode_v1_effect)
    # Every registered class is exported from the package under its own name.
    for cls in EFFECT_TYPES.values():
        assert getattr(effects, cls.__name__) is cls and cls.__name__ in effects.__all__
    assert issubclass(UnknownEffect, Effect) and "UnknownEffect" in effects.__all__


def test_no_client_module_is_longer_than_600_lines() -> None:
    long = {
        str(path.relative_to(CLIENT_DIR)): n
        for path in CLIENT_DIR.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}


def test_operation_groups_send_only_through_the_client() -> None:
    """Only TalonClient implements ``_send`` (the one path to the transport); a group used on
    its own refuses instead of finding some other way."""
    assert TalonClient._send is not OperationGroup._send
    for group in TalonClient.__mro__[1:]:
        if issubclass(group, OperationGroup) and group is not OperationGroup:
            assert "_send" not in vars(group), group
    with pytest.raises(NotImplementedError):
        OperationGroup()._send("x", "GET", "/v2/x", safe_to_retry=True)
