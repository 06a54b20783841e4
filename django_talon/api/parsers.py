"""Request bodies the app's API views cannot parse are a 400, never a 500.

DRF's ``JSONParser`` turns only ``ValueError`` into ``ParseError``. Python's ``json`` module
parses nested arrays and objects recursively, so a 10 KB body of 5,000 ``[`` raises
``RecursionError`` instead, which DRF lets through as a 500 (docs/rest-api.md: the API
never answers 5xx for the caller's input). Every view of the app
(:class:`TalonParsersMixin`) uses its parser classes (the project's
``DEFAULT_PARSER_CLASSES``, or a view's own) each wrapped so that a ``RecursionError``
while parsing becomes DRF's ``ParseError`` (400); nothing else about a parser changes
(media types, a project's own JSON parser, form and multipart parsing).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser

__all__ = ["TalonJSONParser", "TalonParsersMixin", "guarded_parser"]


class _RecursionGuard:
    """Mixed in before a parser class: a body nested too deeply is a ``ParseError``."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)  # type: ignore[misc]
        except RecursionError:
            # Not logged with the body: it is the caller's input, and 10 KB of brackets.
            raise ParseError(_("JSON parse error - the document is nested too deeply.")) from None


class TalonJSONParser(_RecursionGuard, JSONParser):
    """DRF's ``JSONParser``; a body nested too deeply is a ``ParseError`` (400)."""


_GUARDED: dict[type[BaseParser], type[BaseParser]] = {JSONParser: TalonJSONParser}


def guarded_parser(parser_class: type[BaseParser]) -> type[BaseParser]:
    """``parser_class`` with :class:`_RecursionGuard` mixed in (made once per class)."""
    if issubclass(parser_class, _RecursionGuard):
        return parser_class
    guarded = _GUARDED.get(parser_class)
    if guarded is None:
        guarded = type(
            f"Talon{parser_class.__name__}",
            (_RecursionGuard, parser_class),
            {"__module__": __name__, "__doc__": parser_class.__doc__},
        )
        _GUARDED[parser_class] = guarded
    return guarded


class TalonParsersMixin:
    """For the app's API views: the view's parser classes, each :func:`guarded_parser`."""

    def get_parsers(self) -> list[BaseParser]:
        classes: Any = self.parser_classes  # type: ignore[attr-defined]
        return [guarded_parser(parser)() for parser in classes]
