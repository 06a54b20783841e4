"""docs/messages.md's "Updating the catalog" commands, run on a copy of the package, give
the committed English catalog: every string the code marks for translation is in it (the
catalog once held 148 of 307), none is a fuzzy guess, and the shipped ``.mo`` is compiled
from the ``.po``.

The catalogs are compared as compiled (msgid -> msgstr, as gettext reads them), not as
text: another GNU gettext version may wrap lines or date the header differently.
"""

from __future__ import annotations

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.snippets import snippet
from tests.resources import REPO_ROOT

PAGE = "messages.md"
UPDATE = "cd django_talon"
CATALOG = Path("locale") / "en" / "LC_MESSAGES"
TOOLS = ("xgettext", "msgmerge", "msguniq", "msgattrib", "msgen", "msgfmt")


def catalog(mo: Path) -> dict[object, str]:
    """What gettext reads from ``mo``, without the header (it holds the creation date)."""
    with mo.open("rb") as fh:
        translations = gettext.GNUTranslations(fh)
    entries: dict[object, str] = dict(translations._catalog)  # type: ignore[attr-defined]
    entries.pop("", None)
    return entries


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A directory laid out as the page's commands expect: the package copied (they write
    into it), the settings module's packages and the running virtualenv linked."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"GNU gettext not installed ({', '.join(missing)}): apt-get install gettext")
    shutil.copytree(
        REPO_ROOT / "django_talon",
        tmp_path / "django_talon",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for name in ("tests", "example_project"):
        (tmp_path / name).symlink_to(REPO_ROOT / name)
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    return tmp_path


def test_the_update_commands_reproduce_the_committed_catalog(checkout: Path) -> None:
    commands = snippet(PAGE, UPDATE).code
    done = subprocess.run(
        ["bash", "-ec", commands], cwd=checkout, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"

    committed = catalog(REPO_ROOT / "django_talon" / CATALOG / "django.mo")
    regenerated = catalog(checkout / "django_talon" / CATALOG / "django.mo")
    assert sorted(map(str, regenerated.keys() - committed.keys())) == [], "not in the catalog"
    assert sorted(map(str, committed.keys() - regenerated.keys())) == [], "no longer marked"
    assert regenerated == committed

    compiled = checkout / "committed.mo"
    source = REPO_ROOT / "django_talon" / CATALOG / "django.po"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(source)], check=True)
    assert catalog(compiled) == committed, "django.mo is not compiled from django.po"
