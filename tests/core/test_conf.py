"""django_talon.conf: defaults, overrides, reset on setting_changed, secrets never shown."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from django_talon.conf import DEFAULTS, talon_settings


def test_defaults_fill_missing_keys() -> None:
    with override_settings(TALON={"BASE_URL": "https://x.talon.one", "API_KEY": "k"}):
        assert talon_settings.BASE_URL == "https://x.talon.one"
        assert talon_settings.MAX_ATTEMPTS == DEFAULTS["MAX_ATTEMPTS"]
        assert talon_settings.ORDER_PLACEMENT == "fail_open"
        assert talon_settings.fail_closed is False


def test_override_is_seen_at_once_and_reset_afterwards(settings: Any) -> None:
    assert talon_settings.MAX_ATTEMPTS == DEFAULTS["MAX_ATTEMPTS"]
    settings.TALON = {**settings.TALON, "MAX_ATTEMPTS": 2, "ORDER_PLACEMENT": "fail_closed"}
    assert talon_settings.MAX_ATTEMPTS == 2
    assert talon_settings.fail_closed is True
    with override_settings(TALON={"MAX_ATTEMPTS": 5}):
        assert talon_settings.MAX_ATTEMPTS == 5
    assert talon_settings.MAX_ATTEMPTS == 2


def test_unknown_attribute_fails_loudly() -> None:
    with pytest.raises(AttributeError, match="unknown TALON setting"):
        _ = talon_settings.BASE_ULR


def test_unknown_keys_are_listed() -> None:
    with override_settings(TALON={"BASE_ULR": "x", "API_KEY": "k"}):
        assert talon_settings.unknown_keys() == ["BASE_ULR"]


def test_timeout_normalised() -> None:
    with override_settings(TALON={"TIMEOUT": [1, 2]}):
        assert talon_settings.timeout == (1.0, 2.0)
    with override_settings(TALON={"TIMEOUT": 4}):
        assert talon_settings.timeout == 4.0


def test_repr_hides_secrets() -> None:
    with override_settings(TALON={"API_KEY": "sekret-key", "APPLICATION_KEY": "abcd"}):
        text = repr(talon_settings)
    assert "sekret-key" not in text and "abcd" not in text and "***" in text


def test_as_dict_is_a_copy() -> None:
    data = talon_settings.as_dict()
    data["MAX_ATTEMPTS"] = 99
    assert talon_settings.MAX_ATTEMPTS != 99
