"""Validate Integration API wire traffic against Talon.One's official OpenAPI documents.

Shared test support (owner: CLIENT; used by the client's contract tests and by the emulator's
tests for every response it sends). API:

- ``OPERATIONS``: operation name -> ``Operation(spec, method, path)`` (the table lives in
  ``tests/openapi_operations.py``; which document each operation is checked against).
- ``operation_for(method, path)``: the operation name a concrete request belongs to.
- ``validate_request(operation, *, method, path, query, headers, body)`` and
  ``validate_response(operation, *, status, body)`` raise ``AssertionError`` with a readable
  message listing every problem.
- ``sample_response(operation, status)``: a body generated from the response schema.

Every function calls ``tests.resources.require_spec()``, so a test using them is skipped
(failed under ``TALON_STRICT_TESTS=1``) when the documents are absent.

Speed: ``openapi.yaml`` is 1.5 MB. It is parsed once per process with a ``CSafeLoader``
subclass (the plain SafeLoader chokes on it, see spec/README.md) and a JSON copy is cached
under ``.pytest_cache/django_talon_spec/`` keyed by the file's SHA-256, so later runs load it
in a fraction of a second. Validators are built once per schema.

Error statuses a document does not list (the 2021/2020 documents list success codes only)
are checked against ``ErrorResponseWithStatus`` of ``openapi.yaml``, the error body the
current API documents for most operations.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote

import yaml
from jsonschema.exceptions import best_match
from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS30WriteValidator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from tests.openapi_operations import HANDWRITTEN, NEW, OPERATIONS, V2_0, V2_4, Operation
from tests.resources import REPO_ROOT, require_spec

__all__ = [
    "HANDWRITTEN",
    "NEW",
    "OPERATIONS",
    "V2_0",
    "V2_4",
    "Operation",
    "load_document",
    "operation_for",
    "validate_request",
    "validate_response",
]

CACHE_DIR = REPO_ROOT / ".pytest_cache" / "django_talon_spec"


# --- loading ------------------------------------------------------------------------------

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DROPPED_TAGS = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}


class SpecLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """SafeLoader that keeps timestamps and a bare ``=`` as strings (needed by openapi.yaml)."""


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED_TAGS]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


@functools.cache
def load_document(name: str) -> dict[str, Any]:
    """The parsed document ``name`` from the spec folder (cached per process and on disk)."""
    source = require_spec() / name
    data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:20]
    cached = CACHE_DIR / f"{name}.{digest}.json"
    try:
        return json.loads(cached.read_bytes())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        pass  # no or broken cache: parse the YAML below and (re)write it
    document = yaml.load(data, Loader=SpecLoader)
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(document, default=str))
        os.replace(tmp, cached)
    except OSError as exc:  # read-only checkout: parsing every run is slower but correct
        import warnings

        warnings.warn(f"could not cache {name} as JSON: {exc}", stacklevel=2)
    return json.loads(json.dumps(document, default=str))  # same types as the cached copy


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _resolve(doc: Mapping[str, Any], node: Any) -> Any:
    """Follow local ``$ref`` chains (``#/components/...``)."""
    seen = 0
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise AssertionError(f"non-local $ref {ref!r} is not supported")
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
        seen += 1
        if seen > 50:
            raise AssertionError(f"$ref loop at {ref}")
    return node


def _operation_node(name: str) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """(document, operation object, parameters incl. path-level ones) for ``name``."""
    op = OPERATIONS[name]
    doc = load_document(op.spec)
    path_item = doc["paths"].get(op.path)
    if path_item is None:
        raise AssertionError(f"{op.spec} has no path {op.path}")
    node = path_item.get(op.method.lower())
    if node is None:
        raise AssertionError(f"{op.spec} has no {op.method} {op.path}")
    params = [_resolve(doc, p) for p in path_item.get("parameters", [])]
    params += [_resolve(doc, p) for p in node.get("parameters", [])]
    return doc, node, params


# --- validators -----------------------------------------------------------------------------

_URI = "urn:talon-spec:"


@functools.cache
def _registry(spec: str) -> Registry:
    doc = load_document(spec)
    is31 = str(doc.get("openapi", "")).startswith("3.1")
    resource = Resource.from_contents(doc, default_specification=DRAFT202012 if is31 else DRAFT4)
    return Registry().with_resource(_URI + spec, resource)


@functools.cache
def _validator(spec: str, pointer: str, write: bool) -> Any:
    doc = load_document(spec)
    schema = {"$ref": f"{_URI}{spec}#{pointer}"}
    if str(doc.get("openapi", "")).startswith("3.1"):
        return OAS31Validator(schema, registry=_registry(spec), format_checker=oas31_format_checker)
    cls = OAS30WriteValidator if write else OAS30ReadValidator
    return cls(schema, registry=_registry(spec), format_checker=oas30_format_checker)


def _errors(validator: Any, instance: Any, where: str) -> list[str]:
    problems = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        # For oneOf/anyOf failures show the most relevant sub-error too.
        detail = best_match([error]) if error.context else error
        location = "/".join(str(p) for p in detail.absolute_path) or "(root)"
        problems.append(f"{where} {location}: {detail.message[:300]}")
    return problems[:20]


def _fail(operation: str, problems: list[str]) -> None:
    if problems:
        op = OPERATIONS[operation]
        raise AssertionError(
            f"{operation} ({op.method} {op.path}, {op.spec}) does not match the spec:\n  "
            + "\n  ".join(problems)
        )


# --- hand-written schema of POST /v1/customer_profiles_search ---------------------------------

_SEARCH_REQUEST = {
    "type": "object",
    "required": ["attributes"],
    "properties": {"attributes": {"type": "object"}},
}


def _search_response_pointer() -> tuple[str, dict[str, Any]]:
    """Response schema built from openapi.yaml's CustomerProfile."""
    return NEW, {
        "type": "object",
        "required": ["data"],
        "properties": {
            "totalResultSize": {"type": "integer"},
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/CustomerProfile"}},
        },
    }


def _adhoc_validator(spec: str, schema: dict[str, Any]) -> Any:
    key = json.dumps(schema, sort_keys=True)
    return _adhoc_cached(spec, key)


@functools.cache
def _adhoc_cached(spec: str, key: str) -> Any:
    schema = json.loads(key)

    def rebase(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (f"{_URI}{spec}{v}" if k == "$ref" and v.startswith("#") else rebase(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [rebase(v) for v in node]
        return node

    return OAS31Validator(
        rebase(schema), registry=_registry(spec), format_checker=oas31_format_checker
    )


# --- requests --------------------------------------------------------------------------------


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}$")


def operation_for(method: str, path: str) -> str | None:
    """The name in ``OPERATIONS`` of a concrete request (path without query), or ``None``."""
    path = path.split("?", 1)[0]
    for name, op in OPERATIONS.items():
        if op.method == method.upper() and _template_regex(op.path).match(path):
            return name
    return None


def _query_items(query: Any) -> dict[str, list[str]]:
    if query is None:
        return {}
    if isinstance(query, str):
        pairs: Iterable[tuple[str, str]] = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    elif isinstance(query, Mapping):
        pairs = [
            (str(k), str(x))
            for k, v in query.items()
            for x in (v if isinstance(v, (list, tuple)) else [v])
        ]
    else:
        pairs = query
    result: dict[str, list[str]] = {}
    for key, value in pairs:
        result.setdefault(key, []).append(value)
    return result


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    """Turn a query/path string into the JSON type its schema declares."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "array":  # style form, explode false: comma-separated (e.g. campaignIds=1,2)
        items = schema.get("items") or {}
        return [_coerce(part, items) for part in raw.split(",")] if raw else []
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    return raw


def _decode_body(body: Any) -> tuple[bool, Any, str | None]:
    """(present, decoded JSON, problem)."""
    if body is None or body == b"" or body == "":
        return False, None, None
    if isinstance(body, (bytes, bytearray)):
        try:
            return True, json.loads(body), None
        except ValueError as exc:
            return True, None, f"body is not JSON: {exc}"
    if isinstance(body, str):
        try:
            return True, json.loads(body), None
        except ValueError as exc:
            return True, None, f"body is not JSON: {exc}"
    return True, body, None


_SIGNATURE = re.compile(r"^signer=\d+; signature=[0-9a-f]{32}$")


def _check_security(
    doc: Mapping[str, Any], node: Mapping[str, Any], headers: Mapping[str, str]
) -> list[str]:
    requirements = node.get("security", doc.get("security", []))
    schemes = doc.get("components", {}).get("securitySchemes", {})
    if not requirements:
        return []
    failures = []
    for requirement in requirements:
        missing = []
        for scheme_name in requirement:
            scheme = schemes.get(scheme_name, {})
            header = str(scheme.get("name", "")).lower()
            value = headers.get(header)
            if scheme.get("type") != "apiKey" or scheme.get("in") != "header":
                missing.append(f"{scheme_name} (unsupported scheme)")
            elif not value:
                missing.append(f"{scheme_name} (header {scheme.get('name')} missing)")
            elif scheme_name == "api_key_v1" and not re.match(r"^ApiKey-v1 \S+$", value):
                missing.append(f"{scheme_name} (Authorization must be 'ApiKey-v1 <key>')")
            elif scheme_name == "integration_auth" and not _SIGNATURE.match(value):
                missing.append(
                    f"{scheme_name} (Content-Signature must be 'signer=<id>; signature=<md5 hex>')"
                )
        if not missing:
            return []
        failures.append(" + ".join(missing))
    return ["security: none of the allowed schemes satisfied: " + " | ".join(failures)]


def validate_request(
    operation: str,
    *,
    method: str,
    path: str,
    query: Any = None,
    headers: Mapping[str, str] | None = None,
    body: Any = None,
) -> None:
    """Check one request (``path`` URL-encoded as sent, ``query`` as string, mapping or pairs;
    ``body`` as bytes, str or decoded JSON) against the operation's documented request."""
    op = OPERATIONS[operation]
    require_spec()
    problems: list[str] = []
    if method.upper() != op.method:
        problems.append(f"method is {method.upper()}, expected {op.method}")
    if "?" in path:
        path, _, inline_query = path.partition("?")
        query = inline_query if query is None else query
    match = _template_regex(op.path).match(path)
    if match is None:
        problems.append(f"path {path!r} does not match {op.path}")
    request = _Request(
        match=match,
        query=_query_items(query),
        headers={k.lower(): v for k, v in (headers or {}).items()},
        body=_decode_body(body),
    )
    if request.body[2]:
        problems.append(request.body[2])
    if op.spec == HANDWRITTEN:
        problems += _handwritten_request_problems(request)
    else:
        doc, node, params = _operation_node(operation)
        problems += _parameter_problems(op.spec, doc, params, request)
        problems += _check_security(doc, node, request.headers)
        problems += _body_problems(op, doc, node, request)
    _fail(operation, problems)


class _Request(NamedTuple):
    """A request as :func:`validate_request` checks it: the path match, the query values by
    name, the headers by lower-case name and the body as ``(present, decoded, problem)``."""

    match: re.Match[str] | None
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: tuple[bool, Any, str | None]


def _handwritten_request_problems(request: _Request) -> list[str]:
    """The legacy search request of spec/README.md (no OpenAPI document has it)."""
    problems: list[str] = []
    if request.query:
        problems.append(f"query parameters {sorted(request.query)} are not defined")
    if not request.headers.get("authorization", "").startswith("ApiKey-v1 "):
        problems.append("security: Authorization must be 'ApiKey-v1 <key>'")
    present, decoded, body_problem = request.body
    if not present:
        problems.append("body is required")
    elif body_problem is None:
        problems += _errors(_adhoc_validator(NEW, _SEARCH_REQUEST), decoded, "body")
    return problems


def _parameter_problems(
    spec: str, doc: Mapping[str, Any], params: list[Any], request: _Request
) -> list[str]:
    """Path, query and header parameters against their declarations; undeclared queries."""
    problems: list[str] = []
    declared = {(p["in"], p["name"]): p for p in params}
    for (location, name), param in declared.items():
        if location not in ("path", "query", "header"):
            continue  # cookies: the API documents none
        raw = _parameter_value(location, name, request)
        if raw is None:
            if param.get("required") and location != "path":
                kind = "query parameter" if location == "query" else "header"
                problems.append(f"{kind} {name} is required")
            continue
        schema = param.get("schema", {})
        resolved = _resolve(doc, schema)
        if location == "query" and resolved.get("type") == "array":
            value, problem = _array_query(doc, param, resolved, request.query[name])
            if problem:
                problems.append(problem)
        else:
            if location == "query" and len(request.query[name]) > 1:
                problems.append(f"query parameter {name} sent {len(request.query[name])} times")
            value = _coerce(raw, resolved)
        problems += _errors(
            _schema_validator(spec, schema, write=True), value, f"{location} {name}"
        )
    unknown = sorted(set(request.query) - {n for (loc, n) in declared if loc == "query"})
    if unknown:
        problems.append(f"query parameters {unknown} are not defined for this operation")
    return problems


def _array_query(
    doc: Mapping[str, Any], param: Mapping[str, Any], schema: Mapping[str, Any], sent: list[str]
) -> tuple[list[Any], str | None]:
    """An array query parameter's value as its ``style``/``explode`` say it is sent, and the
    problem with how it was sent (``None`` if none).

    Form style (the only one the documents use for queries) exploded, OpenAPI's default for
    it: one key per value (``subledgerId=a&subledgerId=b``). Not exploded
    (``explode: false``): one key, the values separated by commas (``campaignIds=1,2``);
    a repeated key is wrong there, and so would a comma inside an exploded value be read
    as one value.
    """
    items = _resolve(doc, schema.get("items", {}))
    name = param["name"]
    style = param.get("style", "form")
    if style != "form":
        return [], f"query parameter {name}: style {style!r} is not checked by this module"
    if param.get("explode", True):
        return [_coerce(v, items) for v in sent], None
    problem = None
    if len(sent) > 1:
        problem = (
            f"query parameter {name} sent {len(sent)} times; the spec says explode: false "
            f"(one key, values separated by commas: {name}={','.join(sent)})"
        )
    return [_coerce(part, items) for raw in sent for part in raw.split(",") if raw], problem


def _parameter_value(location: str, name: str, request: _Request) -> str | None:
    """The raw string sent for a path/query/header parameter (path: the decoded segment),
    ``None`` if absent."""
    if location == "path":
        return None if request.match is None else unquote(request.match.group(name))
    if location == "query":
        values = request.query.get(name)
        return None if values is None else values[0]
    return request.headers.get(name.lower())


def _body_problems(
    op: Operation, doc: Mapping[str, Any], node: Mapping[str, Any], request: _Request
) -> list[str]:
    """The body against the operation's ``requestBody`` (presence, content type, schema)."""
    present, decoded, body_problem = request.body
    request_body = _resolve(doc, node.get("requestBody")) if node.get("requestBody") else None
    if request_body is None:
        return ["a body was sent but the operation defines none"] if present else []
    if not present:
        return ["body is required"] if request_body.get("required") else []
    if body_problem is not None:
        return []
    content = request_body.get("content", {})
    if "application/json" not in content:
        return [f"body must be one of {sorted(content)}"]
    problems: list[str] = []
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/json"):
        problems.append(f"Content-Type is {content_type!r}, expected application/json")
    pointer = _pointer("paths", op.path, op.method.lower())
    if "$ref" in node["requestBody"]:
        pointer = node["requestBody"]["$ref"][1:]
    else:
        pointer += "/requestBody"
    pointer += _pointer("content", "application/json", "schema")
    return problems + _errors(_validator(op.spec, pointer, True), decoded, "body")


def _schema_validator(spec: str, schema: Mapping[str, Any], *, write: bool) -> Any:
    """Validator for an inline schema of ``spec`` (refs resolved in that document)."""
    doc = load_document(spec)
    if str(doc.get("openapi", "")).startswith("3.1"):
        return _adhoc_validator(spec, dict(schema))
    return _adhoc30(spec, json.dumps(schema, sort_keys=True), write)


@functools.cache
def _adhoc30(spec: str, key: str, write: bool) -> Any:
    schema = json.loads(key)
    if "$ref" in schema and schema["$ref"].startswith("#"):
        schema = {"$ref": f"{_URI}{spec}{schema['$ref']}"}
    cls = OAS30WriteValidator if write else OAS30ReadValidator
    return cls(schema, registry=_registry(spec), format_checker=oas30_format_checker)


# --- responses -------------------------------------------------------------------------------


def _response_schema(operation: str, status: int) -> tuple[str, str | None, dict[str, Any] | None]:
    """(spec, JSON pointer to the schema or None, ad-hoc schema or None) for a status.

    Raises AssertionError when the status is not documented and is not an error status.
    A documented response without JSON content gives (spec, None, None): no body allowed.
    """
    op = OPERATIONS[operation]
    if op.spec == HANDWRITTEN:
        if status == 200:
            spec, schema = _search_response_pointer()
            return spec, None, schema
        if status >= 400:
            return NEW, _pointer("components", "schemas", "ErrorResponseWithStatus"), None
        raise AssertionError(f"{operation}: status {status} is not defined (only 200)")
    doc, node, _ = _operation_node(operation)
    responses = node.get("responses", {})
    key = next(
        (k for k in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx") if k in responses),
        None,
    )
    if key is None:
        if status >= 400:
            return NEW, _pointer("components", "schemas", "ErrorResponseWithStatus"), None
        raise AssertionError(
            f"{operation}: status {status} is not documented ({sorted(responses)}) in {op.spec}"
        )
    if status == 204:  # HTTP forbids a body, whatever content the document lists
        return op.spec, None, None
    pointer = _pointer("paths", op.path, op.method.lower(), "responses", key)
    response = responses[key]
    if "$ref" in response:
        pointer = response["$ref"][1:]
        response = _resolve(doc, response)
    content = response.get("content") or {}
    if "application/json" not in content:
        return op.spec, None, None
    return op.spec, pointer + _pointer("content", "application/json", "schema"), None


def validate_response(operation: str, *, status: int, body: Any) -> None:
    """Check one response (``body`` as bytes, str or decoded JSON; ``None`` = empty)."""
    require_spec()
    spec, pointer, adhoc = _response_schema(operation, status)
    present, decoded, problem = _decode_body(body)
    problems = [problem] if problem else []
    if pointer is None and adhoc is None:
        if present:
            problems.append(f"status {status} is documented without a JSON body, but one was sent")
    elif not present:
        problems.append(f"status {status} needs a JSON body, none was sent")
    elif problem is None:
        validator = _adhoc_validator(spec, adhoc) if adhoc is not None else None
        if validator is None:
            assert pointer is not None
            validator = _validator(spec, pointer, False)
        problems += _errors(validator, decoded, f"response {status}")
    _fail(operation, problems)
