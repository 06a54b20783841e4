"""Fault injection: latency, error statuses, 409 storms, dropped connections, hangs.

A fault is a small dict (from the control endpoint, the CLI or the pytest fixture)::

    {"kind": "error", "status": 503, "path": "/v2/customer_sessions/*", "times": 2}
    {"kind": "latency", "seconds": 0.05, "max_seconds": 0.2}        # random in [0.05, 0.2]
    {"kind": "conflict", "rate": 0.5}                               # 409 for half the calls
    {"kind": "drop", "method": "PUT", "times": 1}                   # close without answering
    {"kind": "hang", "seconds": 5}                                  # answer nothing, then drop

``path`` is an ``fnmatch`` pattern on the request path (default ``*``), ``method`` an optional
HTTP method, ``times`` how many matching calls it affects before it expires (default: all),
``rate`` the fraction of matching calls it affects (default 1.0; drawn from a seeded RNG so a
test run is reproducible). Faults never apply to the ``/_emulator/`` control endpoints.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

from django_talon.emulator.util import is_int, is_number, load_json

KINDS = ("latency", "error", "conflict", "drop", "hang")


class FaultSpecError(ValueError):
    """A fault description is invalid; the message says which key."""


@dataclass
class Fault:
    kind: str
    path: str = "*"
    method: str | None = None
    times: int | None = None
    rate: float = 1.0
    status: int = 500
    seconds: float = 0.0
    max_seconds: float | None = None
    message: str | None = None
    id: int = 0
    hits: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_KEYS = {"kind", "path", "method", "times", "rate", "status", "seconds", "max_seconds", "message"}


def parse_fault(spec: Any) -> Fault:
    """Validate one fault description (dict, or ``kind:key=value,...`` text from the CLI)."""
    if isinstance(spec, str):
        spec = parse_fault_text(spec)
    if not isinstance(spec, dict):
        raise FaultSpecError("a fault must be an object")
    unknown = set(spec) - _KEYS
    if unknown:
        raise FaultSpecError(f"unknown fault keys: {', '.join(sorted(unknown))}")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise FaultSpecError(f"kind must be one of {', '.join(KINDS)}")
    fault = Fault(kind=kind)
    _parse_matching(spec, fault)
    if kind == "error":
        status = spec.get("status", 500)
        if not is_int(status) or not 400 <= int(status) <= 599:
            raise FaultSpecError("status must be an HTTP error status (400..599)")
        fault.status = int(status)
    elif kind == "conflict":
        fault.status = 409
    if kind in ("latency", "hang"):
        _parse_duration(spec, fault)
    if spec.get("message") is not None:
        fault.message = str(spec["message"])
    return fault


def _parse_matching(spec: dict[str, Any], fault: Fault) -> None:
    """Which calls the fault applies to: ``path``, ``method``, ``times``, ``rate``."""
    if "path" in spec:
        if not isinstance(spec["path"], str) or not spec["path"]:
            raise FaultSpecError("path must be a non-empty fnmatch pattern")
        fault.path = spec["path"]
    if spec.get("method") is not None:
        if not isinstance(spec["method"], str):
            raise FaultSpecError("method must be a string")
        fault.method = spec["method"].upper()
    if spec.get("times") is not None:
        if not is_int(spec["times"]) or int(spec["times"]) < 1:
            raise FaultSpecError("times must be a positive integer")
        fault.times = int(spec["times"])
    if "rate" in spec:
        if not is_number(spec["rate"]) or not 0 <= float(spec["rate"]) <= 1:
            raise FaultSpecError("rate must be a number between 0 and 1")
        fault.rate = float(spec["rate"])


def _parse_duration(spec: dict[str, Any], fault: Fault) -> None:
    """``seconds`` (and an optional ``max_seconds``) of a latency or hang fault."""
    default = 30.0 if fault.kind == "hang" else None
    seconds: Any = spec.get("seconds", default)
    if not is_number(seconds) or float(seconds) < 0:
        raise FaultSpecError("seconds must be a number >= 0")
    fault.seconds = float(seconds)
    if spec.get("max_seconds") is not None:
        max_seconds: Any = spec["max_seconds"]
        if not is_number(max_seconds) or float(max_seconds) < fault.seconds:
            raise FaultSpecError("max_seconds must be a number >= seconds")
        fault.max_seconds = float(spec["max_seconds"])


def parse_fault_text(text: str) -> dict[str, Any]:
    """``error:status=503,path=/v2/*,times=2`` -> dict (the CLI's compact form; JSON also works)."""
    text = text.strip()
    if text.startswith("{"):
        try:
            data = load_json(text)
        except ValueError as exc:
            raise FaultSpecError(f"invalid fault JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise FaultSpecError("a fault must be an object")
        return data
    kind, _, rest = text.partition(":")
    spec: dict[str, Any] = {"kind": kind.strip()}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise FaultSpecError(f"expected key=value, got {part!r}")
        key = key.strip()
        value = value.strip()
        if key in ("times", "status"):
            try:
                spec[key] = int(value)
            except ValueError:
                raise FaultSpecError(f"{key} must be an integer") from None
        elif key in ("rate", "seconds", "max_seconds"):
            try:
                spec[key] = float(value)
            except ValueError:
                raise FaultSpecError(f"{key} must be a number") from None
        else:
            spec[key] = value
    return spec


@dataclass
class Decision:
    """What the active faults do to one call."""

    delay: float = 0.0
    terminal: Fault | None = None


class FaultSet:
    """The active faults; thread-safe; ``times`` counts down only when a fault fires."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 0
        self._seed = seed
        self._rng = random.Random(seed)
        #: set on clear/reset/stop so hanging requests end promptly
        self.wake = threading.Event()

    def add(self, spec: Any) -> Fault:
        fault = parse_fault(spec)
        with self._lock:
            self._next_id += 1
            fault.id = self._next_id
            self._faults.append(fault)
            self.wake.clear()
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults = []
            self._rng = random.Random(self._seed)
            self.wake.set()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def __bool__(self) -> bool:
        return bool(self._faults)

    def decide(self, method: str, path: str) -> Decision:
        decision = Decision()
        if not self._faults:
            return decision
        with self._lock:
            for fault in list(self._faults):
                if fault.method is not None and fault.method != method:
                    continue
                if not fnmatch.fnmatchcase(path, fault.path):
                    continue
                if fault.kind != "latency" and decision.terminal is not None:
                    continue
                if fault.rate < 1.0 and self._rng.random() >= fault.rate:
                    continue
                fault.hits += 1
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                if fault.kind == "latency":
                    if fault.max_seconds is not None:
                        decision.delay += self._rng.uniform(fault.seconds, fault.max_seconds)
                    else:
                        decision.delay += fault.seconds
                else:
                    decision.terminal = fault
        return decision
