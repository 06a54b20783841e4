"""The distribution's basic promises: importable, versioned, typed, licensed; the sdist
holds what ``make test`` and ``make demo`` need."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
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


#: The extras ``pip install "django-talon[all]"`` installs: every optional feature.
OPTIONAL_FEATURES = ("celery", "drf", "apibrowser", "emulator")
#: The extras it leaves out: django-oscar is a shop framework (one series, pinned), not a
#: feature; the others are django-talon's own test and development tools.
NOT_IN_ALL = ("oscar", "test", "dev")


def extra_requirements(metadata: str) -> dict[str, set[str]]:
    """The distribution names each extra requires, from ``Requires-Dist: x; extra == 'y'``
    (hatchling writes an extra naming another, ``django-talon[drf]``, out in full)."""
    from packaging.requirements import Requirement

    found: dict[str, set[str]] = {}
    for line in metadata.splitlines():
        if line.startswith("Requires-Dist: ") and "extra ==" in line:
            requirement = Requirement(line.split(": ", 1)[1])
            extra = str(requirement.marker).split("==", 1)[1].strip().strip("'\"")
            found.setdefault(extra, set()).add(requirement.name)
    return found


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
    assert extras == {*OPTIONAL_FEATURES, "all", *NOT_IN_ALL}  # a new extra: decide on `all`
    requires = extra_requirements(metadata)
    for feature in OPTIONAL_FEATURES:
        assert requires[feature] <= requires["all"], feature
    assert not requires["oscar"] & requires["all"]
    for shipped in (
        "django_talon/py.typed",
        "django_talon/emulator/campaigns/demo.json",
        "django_talon/migrations/0001_initial.py",
        "django_talon/templates/django_talon/cart_summary.html",
    ):
        assert shipped in names, shipped
    assert {n.split("/", 1)[0] for n in names} <= {"django_talon", Path(info).parent.name}
    assert "django_talon = django_talon.testing.plugin" in entry_points
    assert "License-Expression: MIT\n" in metadata
    assert "License-File: LICENSE\n" in metadata
    assert info.replace("METADATA", "licenses/LICENSE") in names


#: What an unpacked sdist needs beside the package to run ``make demo`` and ``make test``.
SDIST_NEEDS = (
    "LICENSE",
    "Makefile",
    "manage.py",
    "pyproject.toml",
    "noxfile.py",
    "mkdocs.yml",
    "README.md",
    "CHANGELOG.md",
    ".ci/run",
    "example_project/settings.py",
    "example_project/templates",
    "example_project/demo",
    "tests/settings.py",
    "tests/conftest.py",
    "docs/index.md",
    "benchmarks/settings.py",
)


def tracked_files() -> set[str]:
    """The checkout's files under version control (those still on disk), or nothing
    outside a git checkout (the tests run from an unpacked sdist)."""
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        return set()
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    return {name for name in listed if name and (REPO_ROOT / name).is_file()}


def test_built_sdist_holds_the_repository(tmp_path: Path) -> None:
    """A user who downloads the sdist runs ``make demo`` and ``make test`` from it: it once
    lacked the Makefile, manage.py and the example shop."""
    sdist_builder = pytest.importorskip(
        "hatchling.builders.sdist", reason="hatchling not installed"
    )
    [built] = sdist_builder.SdistBuilder(str(REPO_ROOT)).build(
        directory=str(tmp_path), versions=["standard"]
    )
    with tarfile.open(built) as sdist:
        members = sdist.getnames()
        root = members[0].split("/", 1)[0]
        pkg_info = sdist.extractfile(f"{root}/PKG-INFO")
        assert pkg_info is not None
        metadata = pkg_info.read().decode()
    names = {m.split("/", 1)[1] for m in members if "/" in m}
    for needed in SDIST_NEEDS:  # a file, or a directory with files in it
        assert needed in names or any(n.startswith(f"{needed}/") for n in names), needed
    assert not [n for n in names if n.startswith((".venv/", "site/", ".site/"))]
    assert not [n for n in names if n.endswith((".pyc", ".sqlite3"))]
    missing = sorted(tracked_files() - names - {".gitignore"})
    assert missing == [], "tracked but not in the sdist"
    assert "License-Expression: MIT\n" in metadata
    assert "License-File: LICENSE\n" in metadata
