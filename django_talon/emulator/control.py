"""HTTP handle on a running emulator's ``/_emulator/`` control endpoints (stdlib only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode


class EmulatorControlError(RuntimeError):
    """A control call failed (the message includes the emulator's answer)."""


class EmulatorControl:
    """``EmulatorControl("http://127.0.0.1:9100").reset()`` and friends."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"EmulatorControl({self.base_url!r})"

    def _call(
        self, method: str, name: str, body: Any = None, query: dict[str, str] | None = None
    ) -> Any:
        url = f"{self.base_url}/_emulator/{name}"
        if query:
            url += "?" + urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise EmulatorControlError(
                f"{method} /_emulator/{name} -> {exc.code}: {detail}"
            ) from exc
        except OSError as exc:
            raise EmulatorControlError(f"{method} /_emulator/{name} failed: {exc}") from exc
        return json.loads(raw) if raw else None

    def health(self) -> bool:
        return bool(self._call("GET", "health"))

    def reset(self) -> None:
        """Start-up campaigns, empty state, no faults, empty call log."""
        self._call("POST", "reset")

    def state(self) -> dict[str, Any]:
        """Snapshot of campaigns, coupons, referrals, profiles, sessions, events and faults."""
        result = self._call("GET", "state")
        assert isinstance(result, dict)
        return result

    def load_campaigns(self, data: dict[str, Any] | list[Any] | str | Path) -> None:
        """Replace the campaigns (parsed data, or a path to a JSON file) and reset the state."""
        if isinstance(data, (str, Path)):
            data = json.loads(Path(data).read_text(encoding="utf-8"))
        self._call("POST", "campaigns", data)

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        """Add one fault, e.g. ``add_fault(kind="error", status=503, path="/v2/*", times=2)``."""
        result = self._call("POST", "faults", spec)
        return dict(result["faults"][0])

    def faults(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "faults")["faults"])

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def requests(self, path_prefix: str | None = None) -> list[dict[str, Any]]:
        """Integration API calls received (method, path, query, status, body, operation)."""
        query = {"path_prefix": path_prefix} if path_prefix else None
        return list(self._call("GET", "requests", query=query)["requests"])

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")
