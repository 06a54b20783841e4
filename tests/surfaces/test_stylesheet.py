"""The optional stylesheet for the tags ships with the app and covers their markup."""

from __future__ import annotations

import re
from pathlib import Path

from django.contrib.staticfiles import finders

import django_talon

TEMPLATES = Path(django_talon.__file__).parent / "templates" / "django_talon"


def stylesheet() -> str:
    path = finders.find("django_talon/talon.css")
    assert path, "django_talon/talon.css is not found by the staticfiles finders"
    return Path(str(path)).read_text(encoding="utf-8")


def test_every_block_the_tags_render_is_styled() -> None:
    css = stylesheet()
    # The outermost element of each partial carries a talon-* class the stylesheet styles.
    for template in sorted(TEMPLATES.rglob("*.html")):
        classes = re.findall(r'class="(talon-[a-z-]+)', template.read_text(encoding="utf-8"))
        assert classes, f"{template.name} renders no talon-* class"
        assert f".{classes[0]}" in css, f"{template.name}: .{classes[0]} is not styled"


def test_rules_are_scoped_to_talon_classes() -> None:
    css = re.sub(r"/\*.*?\*/", "", stylesheet(), flags=re.S)
    selectors = [s.strip() for block in re.findall(r"([^{}]+)\{", css) for s in block.split(",")]
    unscoped = [s for s in selectors if s != ":root" and not s.startswith(".talon-")]
    assert unscoped == []


def test_each_code_status_has_a_rule() -> None:
    css = stylesheet()
    assert ".talon-coupon-accepted" in css
    assert ".talon-coupon-rejected" in css
