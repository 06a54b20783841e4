"""The fenced blocks of a docs page, for the tests that run or check them.

A page's every fenced block is either run or checked by a test of ``tests/docs/`` (or
``tests/test_docs_installation.py``), or marked in the markdown as illustrative with an
HTML comment on the line before its fence::

    <!-- not-run: a placeholder URL -->
    ```console
    git clone <this repository>
    ```

Each test module names the blocks it covers by :attr:`Snippet.key` (the fence's
``title="..."`` if it has one, else its first line) and asserts, through
:func:`uncovered`, that no other block of its page is left without a test or a reason,
so a block added to a page later fails the suite until it is tested or marked.

JSON examples may elide with ``...`` (``[...]``, ``, ...}``, ``"...": "..."``):
:func:`documented_json` reads them into plain JSON with :data:`ELIDED` in the elided
places, and :func:`assert_shape` compares an answer with such an example.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2] / "docs"

FENCE = re.compile(
    r"(?:^<!--\s*not-run:\s*(?P<reason>.+?)\s*-->\n)?"
    r"^```(?P<lang>[\w-]*)(?:[ \t]+title=\"(?P<title>[^\"]+)\")?[ \t]*\n"
    r"(?P<code>.*?)^```[ \t]*$",
    re.M | re.S,
)

#: What an elided ``...`` in a documented JSON example reads as.
ELIDED = "..."


@dataclass(frozen=True)
class Snippet:
    """One fenced block of a page."""

    page: str
    lang: str
    title: str | None
    code: str
    line: int
    #: The ``<!-- not-run: reason -->`` before the fence, if any.
    not_run: str | None

    @property
    def key(self) -> str:
        """How a test names the block: its title, else its first non-empty line."""
        if self.title:
            return self.title
        return next(line.strip() for line in self.code.splitlines() if line.strip())


def page_text(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def snippets(page: str) -> list[Snippet]:
    """Every fenced block of ``docs/<page>``, in order."""
    text = page_text(page)
    found = []
    for match in FENCE.finditer(text):
        found.append(
            Snippet(
                page=page,
                lang=match["lang"],
                title=match["title"],
                code=match["code"],
                line=text.count("\n", 0, match.start("code")),
                not_run=match["reason"],
            )
        )
    return found


def snippet(page: str, key: str, *, marked: bool = False) -> Snippet:
    """The block of ``page`` whose key is ``key`` (exactly one, and not marked not-run
    unless ``marked``: a test that runs a block in another form than the page's, e.g.
    the built wheel for ``pip install django-talon``)."""
    matches = [s for s in snippets(page) if s.key == key]
    assert len(matches) == 1, f"docs/{page}: {len(matches)} blocks keyed {key!r}"
    (found,) = matches
    if not marked:
        assert found.not_run is None, f"docs/{page}:{found.line}: {key!r} is marked not-run"
    return found


def uncovered(page: str, covered: Iterable[str]) -> list[str]:
    """The blocks of ``page`` neither in ``covered`` nor marked not-run (should be [])."""
    keys = set(covered)
    return [
        f"docs/{page}:{s.line}: {s.key}"
        for s in snippets(page)
        if s.not_run is None and s.key not in keys
    ]


def section(page: str, heading: str) -> str:
    """The text of ``page`` from the heading line ``heading`` to the next heading of the
    same or a higher level."""
    text = page_text(page)
    match = re.search(rf"^(#+) {re.escape(heading)}\n", text, re.M)
    assert match, f"docs/{page} has no heading {heading!r}"
    level = len(match[1])
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: end.start()] if end else rest


def documented_json(code: str) -> Any:
    """A JSON example of the docs, with its ``...`` elisions read as :data:`ELIDED`."""
    text = re.sub(r"\[\s*\.\.\.\s*\]", '["..."]', code)
    text = re.sub(r",\s*\.\.\.\s*}", ', "...": "..."}', text)
    return json.loads(text)


def assert_shape(documented: Any, actual: Any, path: str = "$", *, values: bool = True) -> None:
    """``actual`` has the documented shape: every documented key (an elided ``"..."``
    key allows more keys, else the key sets are equal), lists' first items alike, and
    the documented scalars' values (``null`` and ``"..."`` stand for any value; with
    ``values=False`` only their types: an illustrative example's ids and codes)."""
    if documented == ELIDED or documented is None:
        return
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r} is not an object"
        keys = set(documented) - {ELIDED}
        missing = keys - set(actual)
        assert not missing, f"{path}: the answer has no {sorted(missing)} (has {sorted(actual)})"
        if ELIDED not in documented:
            extra = set(actual) - keys
            assert not extra, f"{path}: the answer has undocumented {sorted(extra)}"
        for key in keys:
            assert_shape(documented[key], actual[key], f"{path}.{key}", values=values)
        return
    if isinstance(documented, list):
        assert isinstance(actual, list), f"{path}: {actual!r} is not a list"
        items = [item for item in documented if item != ELIDED]
        if items and values:
            assert len(actual) >= len(items), f"{path}: the answer's list has {len(actual)} items"
        if items:  # without values, an illustrative list may be empty in the answer
            for index, item in list(enumerate(items))[: len(actual)]:
                assert_shape(item, actual[index], f"{path}[{index}]", values=values)
        elif ELIDED not in documented and values:
            assert actual == [], f"{path}: documented [], answered {actual!r}"
        return
    if values:
        assert actual == documented, f"{path}: documented {documented!r}, answered {actual!r}"
    else:
        kind = (
            (bool,)
            if isinstance(documented, bool)
            else (int, float)
            if isinstance(documented, (int, float))
            else (type(documented),)
        )
        assert isinstance(actual, kind), (
            f"{path}: documented a {type(documented).__name__}, answered {actual!r}"
        )
