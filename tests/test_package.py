"""The distribution's basic promises: importable, versioned, typed."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import django_talon
from tests.resources import REPO_ROOT


def test_version_is_a_pep440_string() -> None:
    from packaging.version import Version

    assert Version(django_talon.__version__) >= Version("0.1.0.dev0")


def test_package_ships_py_typed_marker() -> None:
    assert (Path(django_talon.__file__).parent / "py.typed").is_file()


def test_built_wheel_ships_the_package_data_extras_and_plugin(tmp_path: Path) -> None:
    """What pip installs, not the source tree: the hatchling wheel built from pyproject.toml."""
    wheel_builder = pytest.importorskip(
        "hatchling.builders.wheel", reason="hatchling not installed"
    )
    [built] = wheel_builder.WheelBuilder(str(REPO_ROOT)).build(
        directory=str(tmp_path), versions=["standard"]
    )
    with zipfile.ZipFile(built) as wheel:
        names = set(wheel.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = wheel.read(info).decode()
        entry_points = wheel.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "Name: django-talon\n" in metadata
    extras = {line.split(": ", 1)[1] for line in metadata.splitlines() if "Provides-Extra" in line}
    assert {"celery", "drf", "all"} <= extras
    for shipped in (
        "django_talon/py.typed",
        "django_talon/emulator/campaigns/demo.json",
        "django_talon/migrations/0001_initial.py",
        "django_talon/templates/django_talon/cart_summary.html",
    ):
        assert shipped in names, shipped
    assert {n.split("/", 1)[0] for n in names} <= {"django_talon", Path(info).parent.name}
    assert "django_talon = django_talon.testing.plugin" in entry_points
