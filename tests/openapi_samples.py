"""Sample response bodies generated from the OpenAPI documents' schemas: every documented
property filled in (to a bounded depth), so the client's decoders see every field they may
meet. Kept apart from :mod:`tests.openapi_contract` (loading and validation), which it reads
the documents through.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from tests.openapi_contract import _resolve, _response_schema, load_document
from tests.resources import require_spec

_FORMAT_SAMPLES = {
    "date-time": "2026-01-02T03:04:05Z",
    "date": "2026-01-02",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "email": "customer@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
}


class _SampleRecursionError(Exception):
    """A schema refers back to itself on this path: the caller picks another option."""


def _sample(doc: Mapping[str, Any], schema: Any, depth: int, refs: tuple[str, ...]) -> Any:
    if not isinstance(schema, Mapping):
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in refs:
            raise _SampleRecursionError(ref)
        return _sample(doc, _resolve(doc, schema), depth, (*refs, ref))
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), schema["enum"][0])
    if "allOf" in schema:
        return _sample_all_of(doc, schema, depth, refs)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return _sample_first_option(doc, schema[key], key, depth, refs)
    kind = _kind(schema)
    if kind == "object":
        return _sample_object(doc, schema, depth, refs)
    if kind == "array":
        return _sample_array(doc, schema, depth, refs)
    if kind == "string":
        return _sample_string(schema)
    if kind in ("integer", "number"):
        return _sample_number(schema, kind)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return {}


def _kind(schema: Mapping[str, Any]) -> str | None:
    """The JSON type to generate: the first non-null of a type list, else what the keywords
    imply (``properties`` -> object, ``items`` -> array)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else ("array" if "items" in schema else None)
    return kind


def _sample_all_of(
    doc: Mapping[str, Any], schema: Mapping[str, Any], depth: int, refs: tuple[str, ...]
) -> Any:
    merged: dict[str, Any] = {}
    for part in schema["allOf"]:
        value = _sample(doc, part, depth, refs)
        if not isinstance(value, dict):
            return value  # allOf over a scalar schema (e.g. a $ref plus a description)
        merged.update(value)
    extra = {k: v for k, v in schema.items() if k != "allOf"}
    if extra.get("properties"):
        value = _sample(doc, {**extra, "type": "object"}, depth, refs)
        if isinstance(value, dict):
            merged.update(value)
    return merged


def _sample_first_option(
    doc: Mapping[str, Any], options: list[Any], key: str, depth: int, refs: tuple[str, ...]
) -> Any:
    for option in options:
        try:
            return _sample(doc, option, depth, refs)
        except _SampleRecursionError:
            continue
    raise _SampleRecursionError(key)


def _sample_object(
    doc: Mapping[str, Any], schema: Mapping[str, Any], depth: int, refs: tuple[str, ...]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    required = set(schema.get("required", []))
    for name, prop in (schema.get("properties") or {}).items():
        if name not in required and depth >= 4:
            continue
        try:
            result[name] = _sample(doc, prop, depth + 1, refs)
        except _SampleRecursionError:
            if name in required:
                raise
    return result


def _sample_array(
    doc: Mapping[str, Any], schema: Mapping[str, Any], depth: int, refs: tuple[str, ...]
) -> list[Any]:
    count = max(int(schema.get("minItems", 0)), 1 if depth < 6 else 0)
    count = min(count, int(schema.get("maxItems", count)))
    try:
        return [_sample(doc, schema.get("items", {}), depth + 1, refs) for _ in range(count)]
    except _SampleRecursionError:
        if schema.get("minItems"):
            raise
        return []


def _sample_string(schema: Mapping[str, Any]) -> str:
    text = _FORMAT_SAMPLES.get(str(schema.get("format")), "sample")
    min_length = int(schema.get("minLength", 0))
    max_length = int(schema.get("maxLength", 10_000))
    if len(text) < min_length:
        text = text + "x" * (min_length - len(text))
    return text[:max_length]


def _sample_number(schema: Mapping[str, Any], kind: str) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
    value = max(1, low if isinstance(low, (int, float)) and not isinstance(low, bool) else 1)
    if (
        isinstance(schema.get("exclusiveMinimum"), (int, float))
        and value <= schema["exclusiveMinimum"]
    ):
        value = schema["exclusiveMinimum"] + 1
    high = schema.get("maximum")
    if isinstance(high, (int, float)) and not isinstance(high, bool):
        value = min(value, high)
    return int(value) if kind == "integer" else float(value)


def sample_response(operation: str, status: int) -> Any:
    """A response body for ``status`` generated from the documented schema (``None`` if the
    status has no JSON body). Every documented property is filled in (to a bounded depth),
    so decoders see every field they may meet."""
    require_spec()
    spec, pointer, adhoc = _response_schema(operation, status)
    doc = load_document(spec)
    if adhoc is not None:
        return _sample(doc, adhoc, 0, ())
    if pointer is None:
        return None
    node: Any = doc
    for part in pointer[1:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return _sample(doc, node, 0, ())
