"""The emulator as a WSGI application: routing, auth, faults, the call log, control endpoints.

Every Integration API route maps to one :class:`~django_talon.emulator.store.Store` method.
Every answer is JSON in Talon.One's shapes; anything unexpected becomes an error body (and is
logged), never a traceback on the wire.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from django_talon.emulator.campaign_file import CampaignFileError, CampaignSet, load_campaigns
from django_talon.emulator.errors import ApiError, bad_request, conflict, not_found
from django_talon.emulator.faults import FaultSet, FaultSpecError
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
Handler = Callable[["Request"], tuple[int, Any]]


class DropConnection(Exception):
    """Raised (outside our own server) when a fault asks to drop the connection."""


@dataclass
class Request:
    method: str
    path: str
    params: list[str]
    query: dict[str, str]
    headers: dict[str, str]
    raw_body: bytes
    _json: Any = None
    _parsed: bool = False

    def json(self, *, required: bool = True) -> Any:
        """The decoded JSON body (400 if it is not JSON or missing when required)."""
        if not self._parsed:
            self._parsed = True
            if not self.raw_body.strip():
                if required:
                    raise bad_request("the request body must be a JSON object", pointer="/")
                self._json = None
            else:
                try:
                    self._json = load_json(self.raw_body)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise bad_request(
                        f"the request body is not valid JSON: {exc}", pointer="/"
                    ) from None
        return self._json


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    operation: str
    handler: Handler
    lock: str | None = None  # "session" / "profile": 409 on parallel calls for the same id
    v1: bool = False
    ok_status: int = 200


def _no_content(func: Callable[..., None], *args: Any) -> tuple[int, Any]:
    """Run an operation that answers 204 No Content."""
    func(*args)
    return 204, None


def _compile(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "([^/]+)", template) + "$")


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
        self.calls: deque[dict[str, Any]] = deque(maxlen=max_logged_requests)
        self._calls_lock = threading.Lock()
        self._call_id = 0
        self._inflight: set[tuple[str, str]] = set()
        self._inflight_lock = threading.Lock()
        self._generation = 0
        self._expected_auth = f"ApiKey-v1 {api_key}"
        #: callables receiving every Integration API answer (tests validate them against the spec)
        self.response_hooks: list[Callable[[dict[str, Any]], None]] = []
        s = self.store
        self.routes: list[Route] = [
            Route(
                "PUT",
                _compile("/v2/customer_sessions/{id}"),
                "updateCustomerSessionV2",
                lambda r: (200, s.update_session_v2(r.params[0], r.json(), r.query)),
                lock="session",
            ),
            Route(
                "GET",
                _compile("/v2/customer_sessions/{id}"),
                "getCustomerSession",
                lambda r: (200, s.get_session(r.params[0])),
            ),
            Route(
                "POST",
                _compile("/v2/customer_sessions/{id}/returns"),
                "returnCartItems",
                lambda r: (
                    200,
                    s.return_items(
                        r.params[0], r.json(), r.query, r.headers.get("idempotency-key")
                    ),
                ),
                lock="session",
            ),
            Route(
                "PUT",
                _compile("/v2/customer_sessions/{id}/reopen"),
                "reopenCustomerSession",
                lambda r: (200, s.reopen_session(r.params[0])),
                lock="session",
            ),
            Route(
                "PUT",
                _compile("/v2/customer_profiles/{id}"),
                "updateCustomerProfileV2",
                lambda r: (200, s.update_profile_v2(r.params[0], r.json(), r.query)),
                lock="profile",
            ),
            Route(
                "PUT",
                _compile("/v2/customer_profiles"),
                "updateCustomerProfilesV2",
                self._bulk_profiles,
            ),
            Route(
                "POST",
                _compile("/v2/customer_audiences"),
                "updateCustomerProfileAudiences",
                lambda r: _no_content(s.update_audiences, r.json()),
            ),
            Route(
                "POST",
                _compile("/v1/coupon_reservations/{code}"),
                "createCouponReservation",
                lambda r: (201, s.create_reservation(r.params[0], r.json())),
            ),
            Route(
                "DELETE",
                _compile("/v1/coupon_reservations/{code}"),
                "deleteCouponReservation",
                lambda r: _no_content(s.delete_reservation, r.params[0], r.json()),
            ),
            Route(
                "GET",
                _compile("/v1/coupon_reservations/customerprofiles/{code}"),
                "getReservedCustomers",
                lambda r: (200, s.reserved_customers(r.params[0])),
            ),
            Route(
                "GET",
                _compile("/v1/coupon_reservations/coupons/{id}"),
                "getReservedCoupons",
                lambda r: (200, s.reserved_coupons(r.params[0])),
            ),
            Route(
                "POST",
                _compile("/v1/referrals"),
                "createReferral",
                lambda r: (201, s.create_referral(r.json())),
            ),
            Route(
                "DELETE",
                _compile("/v1/customer_data/{id}"),
                "deleteCustomerData",
                lambda r: _no_content(s.delete_customer_data, r.params[0]),
            ),
            Route(
                "GET",
                _compile("/v1/customer_profiles/{id}/inventory"),
                "getCustomerInventory",
                lambda r: (200, s.inventory(r.params[0], r.query)),
            ),
            Route(
                "POST",
                _compile("/v1/customer_profiles_search"),
                "getCustomerProfilesByAttributes",
                lambda r: (200, s.search_profiles(r.json())),
            ),
            Route(
                "POST",
                _compile("/v1/events"),
                "trackEvent",
                lambda r: (201, s.track_event_v1(r.json(), r.query)),
                v1=True,
            ),
            Route(
                "PUT",
                _compile("/v1/customer_profiles/{id}"),
                "updateCustomerProfile",
                lambda r: (200, s.update_profile_v1(r.params[0], r.json(), r.query)),
                lock="profile",
                v1=True,
            ),
            Route(
                "PUT",
                _compile("/v1/customer_sessions/{id}"),
                "updateCustomerSession",
                lambda r: (200, s.update_session_v1(r.params[0], r.json(), r.query)),
                lock="session",
                v1=True,
            ),
        ]

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
        if path_prefix:
            calls = [c for c in calls if c["path"].startswith(path_prefix)]
        return calls

    def _control(
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        name = path[len(CONTROL_PREFIX) :].strip("/")

        def data() -> Any:
            try:
                return load_json(body) if body.strip() else None
            except ValueError as exc:
                raise bad_request(
                    f"the request body is not valid JSON: {exc}", pointer="/"
                ) from None

        routes: dict[str, tuple[str, ...]] = {
            "reset": ("POST",),
            "state": ("GET",),
            "campaigns": ("POST", "GET"),
            "faults": ("POST", "GET", "DELETE"),
            "requests": ("GET", "DELETE"),
            "health": ("GET",),
        }
        if name not in routes:
            raise not_found(f"no emulator control endpoint {path}", path)
        if method not in routes[name]:
            raise ApiError(
                405,
                f"{method} is not allowed on {path}",
                title="Method not allowed",
                resource=path,
                headers={"Allow": ", ".join(routes[name])},
            )
        if name == "health":
            return 200, {"status": "ok"}
        if name == "reset":
            self.reset()
            return 200, {"status": "reset"}
        if name == "state":
            return 200, {**self.store.dump(), "faults": self.faults.list()}
        if name == "campaigns":
            if method == "GET":
                return 200, {"campaigns": self.store.dump()["campaigns"]}
            try:
                loaded = self.load_campaigns(data())
            except CampaignFileError as exc:
                raise bad_request(str(exc), pointer="/") from None
            return 200, {"status": "loaded", "campaigns": len(loaded.campaigns)}
        if name == "faults":
            if method == "DELETE":
                self.faults.clear()
                return 204, None
            if method == "GET":
                return 200, {"faults": self.faults.list()}
            spec = data()
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
        # requests
        if method == "DELETE":
            self.clear_calls()
            return 204, None
        return 200, {"requests": self.call_log(query.get("path_prefix"))}

    # ---------------------------------------------------------------------------- helpers

    def _bulk_profiles(self, request: Request) -> tuple[int, Any]:
        result = self.store.update_profiles_v2(request.json(), request.query)
        return (204, None) if result is None else (200, result)

    def _authorized(self, request: Request, route: Route | None) -> bool:
        auth = request.headers.get("authorization")
        if auth is not None and hmac.compare_digest(auth.encode(), self._expected_auth.encode()):
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
        allowed: list[str] = []
        for route in self.routes:
            m = route.pattern.match(path)
            if m is None:
                continue
            if route.method == method:
                return route, [unquote(g) for g in m.groups()], allowed
            allowed.append(route.method)
        return None, [], allowed

    def _record(
        self, request: Request, status: int | None, operation: str | None, started: float
    ) -> None:
        body: Any
        if request._parsed:
            body = request._json
        else:
            try:
                body = load_json(request.raw_body) if request.raw_body.strip() else None
            except (ValueError, UnicodeDecodeError):
                body = request.raw_body.decode("utf-8", "replace")
        with self._calls_lock:
            self._call_id += 1
            self.calls.append(
                {
                    "id": self._call_id,
                    "method": request.method,
                    "path": request.path,
                    "query": dict(request.query),
                    "status": status,
                    "operation": operation,
                    "body": body,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                }
            )

    # ---------------------------------------------------------------------------- WSGI

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        raw_path = environ.get("RAW_URI") or quote(str(environ.get("PATH_INFO", "")))
        raw_path = str(raw_path).split("?", 1)[0]
        path = unquote(raw_path)
        query = dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {
            k[5:].replace("_", "-").lower(): str(v)
            for k, v in environ.items()
            if k.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])

        if path.startswith(CONTROL_PREFIX) or path.rstrip("/") == CONTROL_PREFIX.rstrip("/"):
            try:
                control_status, control_payload = self._control(method, path, query, body)
                return self._respond(start_response, control_status, control_payload)
            except ApiError as exc:
                return self._respond(start_response, exc.status, exc.body(), exc.headers)
            except Exception as exc:  # a bug: answer JSON, keep the traceback in the log
                logger.exception("emulator error handling control call %s %s", method, path)
                error = ApiError(
                    500,
                    f"emulator internal error: {type(exc).__name__}",
                    title="Internal error",
                    resource=path,
                )
                return self._respond(start_response, 500, error.body())

        request = Request(method, path, [], query, headers, body)
        route, params, allowed = self._match(method, raw_path)
        request.params = params
        operation = route.operation if route else None
        status: int | None = None
        lock_key: tuple[str, str] | None = None
        lock_generation = -1
        try:
            try:
                if route is None:
                    if allowed:
                        raise ApiError(
                            405,
                            f"method {method} is not allowed on {path}",
                            title="Method not allowed",
                            resource=path,
                            headers={"Allow": ", ".join(sorted(set(allowed)))},
                        )
                    raise not_found(f"no Integration API endpoint {method} {path}", path)
                if not self._authorized(request, route):
                    raise ApiError(
                        401,
                        "Unauthorized - Invalid API key",
                        title="Unauthorized",
                        details="send 'Authorization: ApiKey-v1 <key>' with a valid key",
                        resource="Authorization",
                    )
                if route.lock:
                    lock_key = (route.lock, params[0])
                    with self._inflight_lock:
                        if lock_key in self._inflight:
                            lock_key = None
                            what = "session" if route.lock == "session" else "customer profile"
                            raise conflict(
                                f"Too many requests are updating this {what} at the same time"
                            )
                        self._inflight.add(lock_key)
                        lock_generation = self._generation
                if self.faults:
                    decision = self.faults.decide(method, path)
                    if decision.delay:
                        generation = self._generation
                        self.faults.wake.wait(decision.delay)
                        if generation != self._generation:
                            return self._drop(environ)
                    fault = decision.terminal
                    if fault is not None:
                        if fault.kind in ("drop", "hang"):
                            if fault.kind == "hang":
                                self.faults.wake.wait(fault.seconds)
                            return self._drop(environ)
                        if fault.kind == "conflict":
                            raise conflict(
                                fault.message
                                or "Too many requests are updating this session at the same time"
                            )
                        raise ApiError(
                            fault.status,
                            fault.message or f"injected fault: HTTP {fault.status}",
                            title="Injected fault",
                            resource=path,
                        )
                status, payload = route.handler(request)
            except ApiError as exc:
                status = exc.status
                self._notify(operation, request, exc.status, exc.body())
                return self._respond(start_response, exc.status, exc.body(), exc.headers)
            except DropConnection:
                raise
            except Exception as exc:  # a bug in the emulator: answer JSON, log the traceback
                logger.exception("emulator error handling %s %s", method, path)
                status = 500
                error = ApiError(
                    500,
                    f"emulator internal error: {type(exc).__name__}",
                    title="Internal error",
                    resource=path,
                )
                return self._respond(start_response, 500, error.body())
            self._notify(operation, request, status, payload)
            return self._respond(start_response, status, payload)
        finally:
            if lock_key is not None:
                with self._inflight_lock:
                    if lock_generation == self._generation:
                        self._inflight.discard(lock_key)
            self._record(request, status, operation, started)
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "%s %s -> %s (%.1f ms)",
                    method,
                    raw_path,
                    status or "dropped",
                    (time.perf_counter() - started) * 1000,
                )

    def _notify(self, operation: str | None, request: Request, status: int, payload: Any) -> None:
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

    @staticmethod
    def _drop(environ: dict[str, Any]) -> Iterable[bytes]:
        """Ask our server to close the socket unanswered (the call is logged with status None)."""
        if DROP_KEY in environ:
            environ[DROP_KEY] = True
            return []
        raise DropConnection("fault: drop the connection")

    @staticmethod
    def _respond(
        start_response: StartResponse,
        status: int,
        payload: Any,
        extra_headers: dict[str, str] | None = None,
    ) -> Iterable[bytes]:
        headers = list((extra_headers or {}).items())
        if status == 204 or payload is None:
            start_response(f"{status} {STATUS_TEXT.get(status, 'Status')}", headers)
            return [b""]
        data = json.dumps(payload, separators=(",", ":")).encode()
        headers.append(("Content-Type", "application/json"))
        start_response(f"{status} {STATUS_TEXT.get(status, 'Status')}", headers)
        return [data]
