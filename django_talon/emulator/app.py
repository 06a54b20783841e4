"""The emulator as a WSGI application: routing, auth, faults, the call log, control endpoints.

Every Integration API route (:mod:`django_talon.emulator.routes`) maps to one
:class:`~django_talon.emulator.store.Store` method.
Every answer is JSON in Talon.One's shapes; anything unexpected becomes an error body (and is
logged), never a traceback on the wire.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, unquote

from django_talon.emulator.call_log import LoggedCall, log_entry
from django_talon.emulator.campaign_file import CampaignFileError, CampaignSet, load_campaigns
from django_talon.emulator.encoding import encode_answer
from django_talon.emulator.errors import ApiError, bad_request, conflict, not_found
from django_talon.emulator.faults import FaultSet, FaultSpecError
from django_talon.emulator.routes import (
    Handler,
    Request,
    Route,
    integration_routes,
    query_lists,
)
from django_talon.emulator.store import Store
from django_talon.emulator.util import load_json

logger = logging.getLogger("django_talon.emulator")

#: environ key our server sets: the app may ask it to drop the connection without answering
DROP_KEY = "django_talon.emulator.drop"
CONTROL_PREFIX = "/_emulator/"
DEFAULT_APPLICATION_KEY = "0123456789abcdef0123456789abcdef"
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

StartResponse = Callable[..., Any]

#: where each control endpoint lives and which methods it accepts
CONTROL_METHODS: dict[str, tuple[str, ...]] = {
    "reset": ("POST",),
    "state": ("GET",),
    "campaigns": ("POST", "GET"),
    "faults": ("POST", "GET", "DELETE"),
    "requests": ("GET", "DELETE"),
    "health": ("GET",),
}


class DropConnectionError(Exception):
    """Raised (outside our own server) when a fault asks to drop the connection."""


DropConnection = DropConnectionError  # the name before ruff's N818


@dataclass(slots=True)
class _Call:
    """Bookkeeping of one Integration API call that outlives its answer (see ``_finish``)."""

    status: int | None = None  # None: dropped, never answered
    lock_key: tuple[str, str] | None = None
    lock_generation: int = -1


class Answer(NamedTuple):
    """What to send back: status, reason phrase, headers and body; or drop the connection."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    dropped: bool = False


#: a fault asked to close the connection without answering (the call is logged, status None)
DROPPED = Answer(0, "", [], b"", dropped=True)


def _control_body(body: bytes) -> Any:
    try:
        return load_json(body) if body.strip() else None
    except ValueError as exc:
        raise bad_request(f"the request body is not valid JSON: {exc}", pointer="/") from None


def _internal_error(exc: Exception, path: str) -> ApiError:
    """A bug in the emulator answers JSON like every other error (the traceback is logged)."""
    return ApiError(
        500,
        f"emulator internal error: {type(exc).__name__}",
        title="Internal error",
        resource=path,
    )


def _read_request(environ: dict[str, Any]) -> tuple[Request, str]:
    """The WSGI environ as a Request, plus the still-quoted path the routes match on."""
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    raw_path = environ.get("RAW_URI") or quote(str(environ.get("PATH_INFO", "")))
    raw_path = str(raw_path).split("?", 1)[0]
    path = unquote(raw_path)
    pairs = parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    query = dict(pairs)
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    headers = {
        k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    return Request(method, path, [], query, headers, body, lists=query_lists(pairs)), raw_path


#: what a path parameter matches in every route pattern (routes._compile)
_PARAMETER = "([^/]+)"
#: how many (method, path) pairs the app remembers the route of (EmulatorApp._route_for)
_MATCHED_PATHS = 4096


def _routes_by_depth(routes: list[Route]) -> dict[int, list[Route]] | None:
    """The routes by the number of slashes a path they match has, each list in table order.

    A pattern written any other way than ``routes._compile`` writes them (a parameter that
    could span slashes) makes the index unusable (None): then every route is tried.
    """
    index: dict[int, list[Route]] = {}
    for route in routes:
        source = route.pattern.pattern
        literal = source.replace(_PARAMETER, "")
        if not (source.startswith("^") and source.endswith("$")) or any(
            c in literal for c in "()[]*+?.|\\{"
        ):
            return None
        index.setdefault(literal.count("/"), []).append(route)
    return index


def request_from_target(
    method: str, target: str, headers: dict[str, str], body: bytes
) -> tuple[Request, str]:
    """A Request from an HTTP request line's target (``/path?query``), lower-case headers and
    the body, plus the still-quoted path the routes match on (our server's way in)."""
    raw_path, _, query_string = target.partition("?")
    # (the usual target, a plain path without a query, takes no unquote/parse_qsl calls)
    path = unquote(raw_path) if "%" in raw_path else raw_path
    if not query_string:
        return Request(method.upper(), path, [], {}, headers, body, lists={}), raw_path
    pairs = parse_qsl(query_string, keep_blank_values=True)
    request = Request(
        method.upper(), path, [], dict(pairs), headers, body, lists=query_lists(pairs)
    )
    return request, raw_path


class EmulatorApp:
    """WSGI callable: ``EmulatorApp(api_key=..., campaigns=...)``."""

    def __init__(
        self,
        *,
        api_key: str,
        campaigns: str | CampaignSet | dict[str, Any] | list[Any] | None = None,
        application_key: str = DEFAULT_APPLICATION_KEY,
        seed: int = 0,
        max_logged_requests: int = 10_000,
        faults: Iterable[Any] = (),
    ) -> None:
        self.api_key = api_key
        self.application_key = application_key
        self._campaign_source = load_campaigns(campaigns)
        self.store = Store(self._campaign_source, seed=seed)
        self.faults = FaultSet(seed)
        self._initial_faults = list(faults)
        for spec in self._initial_faults:
            self.faults.add(spec)
        #: the call log, oldest first: one ``LoggedCall`` tuple per call (see ``_record``)
        self.calls: deque[LoggedCall] = deque(maxlen=max_logged_requests)
        self._calls_lock = threading.Lock()
        self._call_id = 0
        self._inflight: set[tuple[str, str]] = set()
        self._inflight_lock = threading.Lock()
        self._generation = 0
        self._expected_auth = f"ApiKey-v1 {api_key}"
        self._expected_auth_bytes = self._expected_auth.encode()
        #: callables receiving every Integration API answer (tests validate them against the spec)
        self.response_hooks: list[Callable[[dict[str, Any]], None]] = []
        self.routes: list[Route] = integration_routes(self.store)
        self._routes_by_depth = _routes_by_depth(self.routes)
        #: (method, quoted path) -> what _match answers for it (see _route_for)
        self._matched: dict[tuple[str, str], tuple[Route | None, tuple[str, ...], list[str]]] = {}

    # ---------------------------------------------------------------------------- control

    def reset(self) -> None:
        """Back to the start-up campaigns with empty state, no faults and an empty call log."""
        with self._inflight_lock:
            # Requests still sleeping in a fault belong to the old world: they are woken by
            # faults.clear() and then dropped instead of touching the fresh state.
            self._generation += 1
            self._inflight.clear()
        self.faults.clear()
        self.store.reset(self._campaign_source)
        self.clear_calls()

    def load_campaigns(self, data: Any) -> CampaignSet:
        """Replace the campaigns (and reset state). The call log is kept."""
        campaign_set = load_campaigns(data)
        self.store.reset(campaign_set)
        return campaign_set

    def clear_calls(self) -> None:
        with self._calls_lock:
            self.calls.clear()

    def call_log(self, path_prefix: str | None = None) -> list[dict[str, Any]]:
        with self._calls_lock:
            calls = list(self.calls)
        return [
            log_entry(logged)
            for logged in calls
            if not path_prefix or logged.path.startswith(path_prefix)
        ]

    def _control(
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        """The ``/_emulator/`` endpoints: no auth, no faults, not in the call log."""
        name = path[len(CONTROL_PREFIX) :].strip("/")
        if name not in CONTROL_METHODS:
            raise not_found(f"no emulator control endpoint {path}", path)
        if method not in CONTROL_METHODS[name]:
            raise ApiError(
                405,
                f"{method} is not allowed on {path}",
                title="Method not allowed",
                resource=path,
                headers={"Allow": ", ".join(CONTROL_METHODS[name])},
            )
        handlers: dict[str, Callable[[str, dict[str, str], bytes], tuple[int, Any]]] = {
            "health": lambda m, q, b: (200, {"status": "ok"}),
            "reset": self._control_reset,
            "state": lambda m, q, b: (200, {**self.store.dump(), "faults": self.faults.list()}),
            "campaigns": self._control_campaigns,
            "faults": self._control_faults,
            "requests": self._control_requests,
        }
        return handlers[name](method, query, body)

    def _control_reset(self, method: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        self.reset()
        return 200, {"status": "reset"}

    def _control_campaigns(
        self, method: str, query: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        if method == "GET":
            return 200, {"campaigns": self.store.dump()["campaigns"]}
        try:
            loaded = self.load_campaigns(_control_body(body))
        except CampaignFileError as exc:
            raise bad_request(str(exc), pointer="/") from None
        return 200, {"status": "loaded", "campaigns": len(loaded.campaigns)}

    def _control_faults(self, method: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        if method == "DELETE":
            self.faults.clear()
            return 204, None
        if method == "GET":
            return 200, {"faults": self.faults.list()}
        spec = _control_body(body)
        specs = spec.get("faults") if isinstance(spec, dict) and "faults" in spec else spec
        if not isinstance(specs, list):
            specs = [specs]
        added = []
        try:
            for item in specs:
                added.append(self.faults.add(item).to_dict())
        except FaultSpecError as exc:
            raise bad_request(f"invalid fault: {exc}", pointer="/") from None
        return 201, {"faults": added}

    def _control_requests(self, method: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        if method == "DELETE":
            self.clear_calls()
            return 204, None
        return 200, {"requests": self.call_log(query.get("path_prefix"))}

    # ---------------------------------------------------------------------------- helpers

    def _authorized(self, request: Request, route: Route | None) -> bool:
        auth = request.headers.get("authorization")
        if auth is not None and hmac.compare_digest(auth.encode(), self._expected_auth_bytes):
            return True
        signature = request.headers.get("content-signature")
        if signature and route is not None and request.path.startswith("/v1/"):
            return self._valid_signature(signature, request.raw_body)
        return False

    def _valid_signature(self, header: str, body: bytes) -> bool:
        parts = {
            k.strip().lower(): v.strip()
            for k, _, v in (p.partition("=") for p in header.split(";"))
        }
        if parts.get("signer") != str(self.store.application_id):
            return False
        try:
            key = bytes.fromhex(self.application_key)
        except ValueError:
            logger.error(
                "the emulator's application key is not hex; Content-Signature cannot verify"
            )
            return False
        expected = hmac.new(key, body, hashlib.md5).hexdigest()
        return hmac.compare_digest(expected, parts.get("signature", "").lower())

    def _match(self, method: str, path: str) -> tuple[Route | None, list[str], list[str]]:
        """The route for the method and path (first in table order), its path parameters, and
        the methods other routes of that path accept (for a 405).

        Only the routes with as many slashes as the path can match it (a parameter never
        spans a slash), so only those are tried, in table order.
        """
        allowed: list[str] = []
        by_depth = self._routes_by_depth
        for route in self.routes if by_depth is None else by_depth.get(path.count("/"), ()):
            m = route.pattern.match(path)
            if m is None:
                continue
            if route.method == method:
                return route, [unquote(g) if "%" in g else g for g in m.groups()], allowed
            allowed.append(route.method)
        return None, [], allowed

    def _route_for(self, method: str, path: str) -> tuple[Route | None, list[str], list[str]]:
        """:meth:`_match`, remembered per method and path (at most ``_MATCHED_PATHS`` of them).

        Why (issue 13): a client updates the same session again and again, and matching its
        path tried the regular expression of every route of that depth before the session's.
        The routes never change after start-up, so an answer once found stays right. (A
        dict get/set is atomic: threads at most compute the same answer twice.)
        """
        key = (method, path)
        known = self._matched.get(key)
        if known is None:
            route, params, allowed = self._match(method, path)
            if len(self._matched) >= _MATCHED_PATHS:
                self._matched.clear()  # (a crude bound: forget them all, refill as used)
            self._matched[key] = known = (route, tuple(params), allowed)
        return known[0], list(known[1]), known[2]

    def _record(
        self, request: Request, status: int | None, operation: str | None, started: float
    ) -> None:
        """Log the call: a tuple of what the entry needs, made into the entry when the log
        is read (:func:`~django_talon.emulator.call_log.log_entry`).

        Why a tuple: the log entry (a dict with the query copied and the duration rounded)
        was built on every call, and most calls' entries are never read; the body is kept
        as the bytes received and decoded on reading, as before: a decoded body is a tree
        of dicts and lists the garbage collector walks again and again while up to
        ``max_logged_requests`` of them stay alive, a bytes object is one untracked object.
        (A body the operation already found not to be JSON is logged as null, as before.)
        """
        elapsed = time.perf_counter() - started
        unreadable = request._parsed and request._json is None
        with self._calls_lock:
            self._call_id += 1
            self.calls.append(
                LoggedCall(
                    self._call_id,
                    request.method,
                    request.path,
                    request.query,
                    request.lists,
                    status,
                    operation,
                    None if unreadable else request.raw_body,
                    elapsed,
                )
            )

    # ---------------------------------------------------------------------------- WSGI

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """WSGI entry point (any WSGI server); our own server calls :meth:`answer` directly."""
        request, raw_path = _read_request(environ)
        answer = self.answer(request, raw_path)
        if answer.dropped:
            if DROP_KEY in environ:  # our server: it closes the socket unanswered
                environ[DROP_KEY] = True
                return []
            raise DropConnectionError("fault: drop the connection")
        start_response(f"{answer.status} {answer.reason}", answer.headers)
        return [answer.body]

    def answer(self, request: Request, raw_path: str) -> Answer:
        """Answer one call: a control endpoint or an Integration API operation.

        ``raw_path`` is the still-quoted path the routes match on (``request.path`` is unquoted).
        """
        started = time.perf_counter()
        path = request.path
        if path.startswith(CONTROL_PREFIX) or path.rstrip("/") == CONTROL_PREFIX.rstrip("/"):
            return self._answer_control(request)
        route, request.params, allowed = self._route_for(request.method, raw_path)
        operation = route.operation if route else None
        call = _Call()
        try:
            return self._serve(request, route, allowed, call)
        finally:
            self._finish(request, raw_path, operation, call, started)

    def _answer_control(self, request: Request) -> Answer:
        try:
            status, payload = self._control(
                request.method, request.path, request.query, request.raw_body
            )
            return _respond(status, payload)
        except ApiError as exc:
            return _respond(exc.status, exc.body(), exc.headers)
        except Exception as exc:  # a bug: answer JSON, keep the traceback in the log
            logger.exception(
                "emulator error handling control call %s %s", request.method, request.path
            )
            return _respond(500, _internal_error(exc, request.path).body())

    def _serve(
        self, request: Request, route: Route | None, allowed: list[str], call: _Call
    ) -> Answer:
        """Answer an Integration API call: checks, faults, the store operation, hooks."""
        operation = route.operation if route else None
        try:
            handler = self._admit(request, route, allowed, call)
            if self.faults and self._inject_faults(request):
                return DROPPED
            status, payload = handler(request)
        except ApiError as exc:
            call.status = exc.status
            body = exc.body()
            self._notify(operation, request, exc.status, body)
            return _respond(exc.status, body, exc.headers)
        except Exception as exc:  # a bug in the emulator: answer JSON, log the traceback
            logger.exception("emulator error handling %s %s", request.method, request.path)
            call.status = 500
            return _respond(500, _internal_error(exc, request.path).body())
        call.status = status
        if self.response_hooks:
            self._notify(operation, request, status, payload)
        return _respond(status, payload)

    def _admit(
        self, request: Request, route: Route | None, allowed: list[str], call: _Call
    ) -> Handler:
        """The route's handler, once the call may go ahead: 404/405, 401, or 409 in flight."""
        if route is None:
            if allowed:
                raise ApiError(
                    405,
                    f"method {request.method} is not allowed on {request.path}",
                    title="Method not allowed",
                    resource=request.path,
                    headers={"Allow": ", ".join(sorted(set(allowed)))},
                )
            raise not_found(
                f"no Integration API endpoint {request.method} {request.path}", request.path
            )
        if not self._authorized(request, route):
            raise ApiError(
                401,
                "Unauthorized - Invalid API key",
                title="Unauthorized",
                details="send 'Authorization: ApiKey-v1 <key>' with a valid key",
                resource="Authorization",
            )
        if route.lock:
            self._claim((route.lock, request.params[0]), call)
        return route.handler

    def _claim(self, lock_key: tuple[str, str], call: _Call) -> None:
        """Mark the session/profile as in flight; 409 if another call already holds it."""
        with self._inflight_lock:
            if lock_key in self._inflight:
                what = "session" if lock_key[0] == "session" else "customer profile"
                raise conflict(f"Too many requests are updating this {what} at the same time")
            self._inflight.add(lock_key)
            call.lock_key = lock_key
            call.lock_generation = self._generation

    def _inject_faults(self, request: Request) -> bool:
        """Apply the matching faults: delay, then drop/hang (True: drop the connection) or raise
        an error; False lets the call through."""
        decision = self.faults.decide(request.method, request.path)
        if decision.delay:
            generation = self._generation
            self.faults.wake.wait(decision.delay)
            if generation != self._generation:
                return True
        fault = decision.terminal
        if fault is None:
            return False
        if fault.kind in ("drop", "hang"):
            if fault.kind == "hang":
                self.faults.wake.wait(fault.seconds)
            return True
        if fault.kind == "conflict":
            raise conflict(
                fault.message or "Too many requests are updating this session at the same time"
            )
        raise ApiError(
            fault.status,
            fault.message or f"injected fault: HTTP {fault.status}",
            title="Injected fault",
            resource=request.path,
        )

    def _finish(
        self, request: Request, raw_path: str, operation: str | None, call: _Call, started: float
    ) -> None:
        """Answered, failed or dropped: release the in-flight mark, log the call."""
        if call.lock_key is not None:
            with self._inflight_lock:
                if call.lock_generation == self._generation:
                    self._inflight.discard(call.lock_key)
        self._record(request, call.status, operation, started)
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "%s %s -> %s (%.1f ms)",
                request.method,
                raw_path,
                call.status or "dropped",
                (time.perf_counter() - started) * 1000,
            )

    def _notify(self, operation: str | None, request: Request, status: int, payload: Any) -> None:
        if not self.response_hooks:
            return
        for hook in self.response_hooks:
            hook(
                {
                    "operation": operation,
                    "method": request.method,
                    "path": request.path,
                    "query": dict(request.query),
                    "status": status,
                    "body": payload,
                }
            )


def _respond(status: int, payload: Any, extra_headers: dict[str, str] | None = None) -> Answer:
    """A JSON answer (or an empty one for 204 / no payload)."""
    headers = list(extra_headers.items()) if extra_headers else []
    reason = STATUS_TEXT.get(status, "Status")
    if status == 204 or payload is None:
        return Answer(status, reason, headers, b"")
    headers.append(("Content-Type", "application/json"))
    return Answer(status, reason, headers, encode_answer(payload))
