"""docs/checks.md's E005 row names every setting the check holds to a fixed set of choices
(``django_talon.conf.CHOICES``), with all its choices, and each of them outside its choices
is an E005."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import checks

from django_talon.conf import CHOICES
from tests.resources import REPO_ROOT


def e005_row() -> tuple[str, str]:
    text = (REPO_ROOT / "docs" / "checks.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `django_talon.E005`"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    return cells[1], cells[2]


@pytest.mark.parametrize("key", sorted(CHOICES))
def test_the_e005_row_names_each_choice_setting(key: str, settings: Any) -> None:
    when, fix = e005_row()
    assert f"`{key}`" in when
    listed = re.search(rf"`{key}`: ([^;]+)", fix)
    assert listed is not None, fix
    assert set(re.findall(r"`([a-z_]+)`", listed.group(1))) == set(CHOICES[key])
    settings.TALON = {**settings.TALON, key: "not-a-choice"}
    found = [m for m in checks.run_checks() if m.id == "django_talon.E005"]
    assert [key in m.msg for m in found] == [True]
