"""The README is the package's page on PyPI, where a relative link leads nowhere: its links
are absolute, and each one into this repository names a file that exists here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_links_are_absolute_and_point_at_files_of_this_repository() -> None:
    text = (ROOT / "README.md").read_text()
    # (pyproject's Changelog URL, read without tomllib: Python 3.10 has none)
    changelog = re.search(r'^Changelog = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert changelog, "pyproject.toml [project.urls] has no Changelog"
    repository = changelog.group(1).rsplit("/blob/main/", 1)[0] + "/blob/main/"
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert links
    for link in links:
        assert re.match(r"https?://", link), f"relative link in README.md: {link}"
        if link.startswith(repository):
            assert (ROOT / link[len(repository) :]).exists(), link
