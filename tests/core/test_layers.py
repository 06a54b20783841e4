"""Layering promise of issue 4 / DESIGN.md, checked on the source (imports, AST): the example
shop uses only django-talon's documented public modules.

The layers inside ``django_talon`` (the models call no API, the client and emulator import
no Django, ...) are import-linter contracts in pyproject.toml (``make lint`` runs
``lint-imports``); they follow indirect imports too, which this file's old AST check of the
models did not. ``example_project`` is outside import-linter's root package, hence this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


#: django-talon's documented public surface (docs/services.md, adapters.md, client.md,
#: celery.md, installation.md): what a shop may import.
PUBLIC = {
    "django_talon",
    "django_talon.services",
    "django_talon.adapters",
    "django_talon.adapters.TalonAdapter",
    "django_talon.client",
    "django_talon.client.TalonError",
    "django_talon.exceptions",
    "django_talon.exceptions.TalonUnavailable",
    "django_talon.exceptions.OrderRefused",
    "django_talon.tasks",
    "django_talon.tasks.beat_schedule",
    "django_talon.models",
    "django_talon.models.CouponReservation",
    "django_talon.signals",
    # The demo's outage switch drives the emulator's documented control handle (emulator.md).
    "django_talon.emulator",
    "django_talon.emulator.EmulatorControl",
    "django_talon.emulator.EmulatorControlError",
}


def test_example_shop_uses_only_the_public_surface() -> None:
    for path, names in imported_modules(ROOT / "example_project").items():
        talon = {n for n in names if n == "django_talon" or n.startswith("django_talon.")}
        # ``from django_talon import services`` / ``services.x`` are the public service API.
        private = sorted(
            n for n in talon if n not in PUBLIC and not n.startswith("django_talon.services.")
        )
        assert private == [], f"{path} imports non-public {private}"
