"""Effects are interpreted in one place: no ``effectType`` string outside the client.

The client decodes every effect into a typed class (``django_talon.client.effects``); the
Django side dispatches on those classes. A string such as ``"rejectCoupon"`` anywhere else
in the app or the example shop is a second, untyped interpretation of the same effect, the
kind that drifts from the first one. This test finds such literals in Python code (string
constants, found with :mod:`ast`, so docstrings that *mention* a type in prose do not count)
and in templates (quoted strings). The client and the emulator (which has to produce effects
by name) are the only places allowed to spell them.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from django_talon.client.effects import EFFECT_TYPES

ROOT = Path(__file__).resolve().parent.parent
#: Where effect types may be spelled: the decoder itself and the emulator producing effects.
ALLOWED = (ROOT / "django_talon" / "client", ROOT / "django_talon" / "emulator")
SCANNED = (ROOT / "django_talon", ROOT / "example_project")

#: Registered effect types that are also everyday words: ``"error"`` (``ErrorEffect``) is a
#: dict key, a CSS class and a log field all over the app, never a sign of effect logic.
ORDINARY_WORDS = frozenset({"error"})


def effect_type_literals() -> frozenset[str]:
    """Every effect type the client registers (``@_register`` fills ``EFFECT_TYPES`` and
    sets each class's ``EFFECT_TYPE``), minus the ordinary words."""
    types = {cls.EFFECT_TYPE for cls in EFFECT_TYPES.values()} | set(EFFECT_TYPES)
    return frozenset(types - ORDINARY_WORDS)


def scanned_files(roots: Iterable[Path] = SCANNED) -> Iterator[Path]:
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".py", ".html") or not path.is_file():
                continue
            if any(path.is_relative_to(allowed) for allowed in ALLOWED):
                continue
            yield path


def literals_in(path: Path, types: frozenset[str]) -> list[tuple[int, str]]:
    """``(line, literal)`` for each effect-type string in ``path``."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        return sorted(
            (node.lineno, node.value)
            for node in ast.walk(ast.parse(text, filename=str(path)))
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in types
        )
    alternatives = "|".join(map(re.escape, sorted(types)))
    pattern = re.compile(r"""(["'])(""" + alternatives + r""")\1""")
    return [
        (number, match.group(2))
        for number, line in enumerate(text.splitlines(), start=1)
        for match in pattern.finditer(line)
    ]


def offenders(files: Iterable[Path], types: frozenset[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{line}: {value!r}"
        for path in files
        for line, value in literals_in(path, types)
    ]


def test_the_registry_gives_the_types_to_look_for() -> None:
    types = effect_type_literals()
    assert {"setDiscount", "rejectCoupon", "acceptReferral", "showNotification"} <= types
    assert ORDINARY_WORDS <= set(EFFECT_TYPES), "an exemption that is no effect type: drop it"


def test_no_effect_type_literal_outside_the_client() -> None:
    found = offenders(scanned_files(), effect_type_literals())
    assert not found, (
        "effect types spelled outside django_talon/client (dispatch on the classes of "
        "django_talon.client.effects instead):\n" + "\n".join(found)
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("handler.py", 'if e.get("effectType") == "rejectCoupon":\n    pass\n', [(1, "rejectCoupon")]),
        ("tuple.py", "KINDS = ('acceptCoupon',\n         'setDiscountPerItem')\n",
         [(1, "acceptCoupon"), (2, "setDiscountPerItem")]),
        ("page.html", '{% if d.effect_type == "setDiscountPerItem" %}x{% endif %}\n',
         [(1, "setDiscountPerItem")]),
        ("prose.py", '"""A ``rejectCoupon`` effect, in prose."""\nX = "rejectCouponCode"\n', []),
        ("word.py", 'row = {"error": "boom"}\n', []),
    ],
)  # fmt: skip
def test_the_scan_finds_literals_and_only_literals(
    tmp_path: Path, name: str, text: str, expected: list[tuple[int, str]]
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    types = effect_type_literals()
    assert [literals_in(p, types) for p in scanned_files([tmp_path])] == [expected]
    if expected:
        assert offenders(scanned_files([tmp_path]), types)


def test_the_client_and_the_emulator_are_not_scanned() -> None:
    files = list(scanned_files())
    assert files and not any(p.is_relative_to(allowed) for p in files for allowed in ALLOWED)
    assert ROOT / "django_talon" / "promotions" / "building.py" in files
