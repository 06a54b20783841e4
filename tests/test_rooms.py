"""Rooms stay small: no module of the package is above 600 lines (migrations aside).

A module past that size is almost always two ideas; splitting it is cheaper while it is
still small. The limit covers the whole package, client and emulator included.
"""

from __future__ import annotations

from pathlib import Path

import django_talon

LIMIT = 600
PACKAGE = Path(django_talon.__file__).parent


def oversized(root: Path, limit: int = LIMIT) -> dict[str, int]:
    """``{relative path: lines}`` of the ``.py`` files under ``root`` longer than ``limit``."""
    found: dict[str, int] = {}
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found[str(path.relative_to(root))] = lines
    return found


def test_no_module_of_the_package_is_above_600_lines() -> None:
    assert oversized(PACKAGE) == {}


def test_the_size_check_finds_a_long_module(tmp_path: Path) -> None:
    (tmp_path / "long.py").write_text("x = 1\n" * (LIMIT + 1))
    (tmp_path / "short.py").write_text("x = 1\n" * LIMIT)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0001_initial.py").write_text("x = 1\n" * (LIMIT + 1))
    assert oversized(tmp_path) == {"long.py": LIMIT + 1}
