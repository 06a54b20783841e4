"""The distribution's basic promises: importable, versioned, typed."""

from __future__ import annotations

from pathlib import Path

import django_talon


def test_version_is_a_pep440_string() -> None:
    from packaging.version import Version

    assert Version(django_talon.__version__) >= Version("0.1.0.dev0")


def test_package_ships_py_typed_marker() -> None:
    assert (Path(django_talon.__file__).parent / "py.typed").is_file()
