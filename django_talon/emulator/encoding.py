"""JSON in and out: the standard library's, or ``orjson`` where it gives the same.

Why: encoding the 3.5 KB answer of a session update with ``json`` was the largest single part
of the emulator's CPU per update (issue 13). ``orjson`` (the optional ``emulator`` extra) is
used when it is installed, and only where its bytes are the standard library's:

- ``orjson`` writes non-ASCII text as UTF-8 and DEL (0x7f) raw, ``json`` (``ensure_ascii``)
  as ``\\uXXXX`` escapes: an answer that is not pure ASCII or holds a DEL goes to ``json``;
- ``orjson`` writes NaN and infinities as ``null``, ``json`` as ``NaN``/``Infinity``: an
  answer holding ``null`` goes to ``json``;
- floats below 1e-4 (``json``: ``1e-05``; ``orjson``: ``0.00001`` or ``1.5e-7``): an answer
  with a number written ``0.0000...`` or with a negative exponent goes to ``json`` (a string
  that merely looks like one costs the same fallback, never different bytes);
- what ``orjson`` refuses (integers beyond 64 bits, non-string keys, surrogates, nesting
  deeper than 254) and what it would write but ``json`` refuses (dataclasses, datetimes,
  subclasses of ``str``/``int``/``dict``/``list``: handed to a ``default`` that refuses them)
  goes to ``json``, which answers or raises as it always did.

Every other character and number is written alike by both (checked over the whole test suite
with ``DJANGO_TALON_EMULATOR_JSON=check``, which encodes every answer both ways and raises on
a difference; ``DJANGO_TALON_EMULATOR_JSON=stdlib`` turns ``orjson`` off).

Request bodies are read by :func:`decode` the same way round: ``orjson.loads`` where it gives
what ``json.loads`` gives. It refuses what ``json`` reads differently from it or not at all
(``NaN``/``Infinity``, numbers beyond a double such as ``1e400``, lone surrogate escapes,
UTF-16/32 or a BOM, nesting deeper than 1024) and ``json`` then reads it (or raises its own
error); the one silent difference, integers beyond 64 bits (``orjson`` gives a float), is
kept away by reading any body with a run of 19 or more digits with ``json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

try:  # the optional accelerator (pip install django-talon[emulator])
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None  # type: ignore[assignment]

#: whether orjson is there to be used
ACCELERATED = orjson is not None

#: one encoder for every answer (``json.dumps`` would build a new one per call); answers are
#: trees the store builds afresh, never circular, so the per-container circularity check goes
_STDLIB = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode

#: "" (orjson when installed), "stdlib" (never orjson) or "check" (both, compared)
MODE = os.environ.get("DJANGO_TALON_EMULATOR_JSON", "").strip().lower()
MODES = ("", "stdlib", "check")
if MODE not in MODES:  # a typo must not quietly measure the other path
    raise ValueError(
        f"DJANGO_TALON_EMULATOR_JSON={MODE!r}: use 'stdlib', 'check' or leave it unset"
    )

_OPTIONS = (
    (
        orjson.OPT_PASSTHROUGH_DATACLASS
        | orjson.OPT_PASSTHROUGH_DATETIME
        | orjson.OPT_PASSTHROUGH_SUBCLASS
    )
    if orjson is not None
    else 0
)
_F = TypeVar("_F", bound=Callable[..., Any])

_NUMBER_CHARS = frozenset(b"0123456789.")
_BEFORE_VALUE = frozenset(b":,[")


def encode_stdlib(payload: Any) -> bytes:
    """The answer as the standard library writes it (the reference)."""
    return _STDLIB(payload).encode()


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is left to the standard library's encoder")


def _negative_exponent(data: bytes) -> bool:
    """Whether some number in ``data`` is written with a negative exponent (``1.5e-7``)."""
    at = data.find(b"e-")
    while at != -1:
        start = at - 1
        while start >= 0 and data[start] in _NUMBER_CHARS:
            start -= 1
        if start < at - 1:  # digits before the "e"
            if start < 0 or data[start] in _BEFORE_VALUE:
                return True
            if data[start] == 0x2D and (start == 0 or data[start - 1] in _BEFORE_VALUE):
                return True  # a negative number
        at = data.find(b"e-", at + 2)
    return False


def same_as_stdlib(data: bytes) -> bool:
    """Whether ``orjson``'s bytes are certainly the standard library's (see the module doc)."""
    return (
        data.isascii()
        and b"\x7f" not in data
        and b"null" not in data
        and b"0.0000" not in data
        and not _negative_exponent(data)
    )


def _encode_fast(payload: Any) -> bytes:
    try:
        data: bytes = orjson.dumps(payload, default=_refuse, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return encode_stdlib(payload)
    return data if same_as_stdlib(data) else encode_stdlib(payload)


def _encode_checked(payload: Any) -> bytes:
    reference = encode_stdlib(payload)
    if orjson is not None and _encode_fast(payload) != reference:
        raise AssertionError(f"orjson and json disagree on {reference[:200]!r}")
    return reference


def _chosen(checked: _F, fast: _F, stdlib: _F) -> _F:
    """The implementation ``MODE`` asks for: both compared, orjson's where installed, or json."""
    if MODE == "check":
        return checked
    return fast if orjson is not None and MODE != "stdlib" else stdlib


#: the JSON bytes of an answer: always the standard library's bytes
encode_answer = _chosen(_encode_checked, _encode_fast, encode_stdlib)


#: every ASCII digit -> "0" (to find runs of digits with one bytes.find)
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
#: integers this long may be beyond 64 bits, where orjson reads a float and json an int
_LONG_NUMBER = b"0" * 19


def decode_stdlib(text: str | bytes) -> Any:
    """``json.loads`` (the reference)."""
    return json.loads(text)


def _decode_fast(text: str | bytes) -> Any:
    if type(text) is bytes and text.translate(_DIGITS_AS_ZERO).find(_LONG_NUMBER) < 0:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # json reads it its own way, or raises its own error
    return json.loads(text)


def _decode_checked(text: str | bytes) -> Any:
    reference = decode_stdlib(text)
    if orjson is not None:
        fast = _decode_fast(text)
        if repr(fast) != repr(reference):
            raise AssertionError(f"orjson and json read {text[:200]!r} differently")
    return reference


#: the value of a JSON document: always what ``json.loads`` gives
decode = _chosen(_decode_checked, _decode_fast, decode_stdlib)
