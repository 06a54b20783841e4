"""The demo's outage switch: staff inject and lift a Talon.One outage in the emulator.

What django-talon is for only shows when Talon.One fails: checkouts keep working without
its discounts (fail-open), writes wait in the outbox, and after recovery they are delivered
and reconciliation records what differs. This page drives the emulator's fault control
(``/_emulator/faults``) so a newcomer can watch that happen in the running demo, and shows
the outbox and the discrepancies while it does. Staff only; it only works against the
local emulator the demo starts.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from django_talon.emulator import EmulatorControl, EmulatorControlError
from django_talon.services import deliver_pending_now, outbox_health

#: The fault the switch injects: every Integration API call answers 503.
OUTAGE_FAULT: dict[str, Any] = {
    "kind": "error",
    "status": 503,
    "path": "/v*",
    "message": "demo outage (switched on by staff)",
}


def emulator() -> EmulatorControl:
    """The control handle of the emulator ``TALON["BASE_URL"]`` points at (short timeout:
    the page must render even when the emulator is down)."""
    return EmulatorControl(settings.TALON["BASE_URL"], timeout=2.0)


def _emulator_status(control: EmulatorControl) -> tuple[bool, bool]:
    """``(reachable, outage_on)``."""
    try:
        faults = control.faults()
    except EmulatorControlError:
        return False, False
    return True, any(f.get("message") == OUTAGE_FAULT["message"] for f in faults)


@staff_member_required
@require_http_methods(["GET", "POST"])
def outage(request: HttpRequest) -> HttpResponse:
    control = emulator()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "start":
                control.add_fault(**OUTAGE_FAULT)
                messages.warning(request, "Outage on: Talon.One answers 503 to every call.")
            elif action == "stop":
                control.clear_faults()
                # Staff know Talon.One is back: the circuit the outage opened would otherwise
                # keep the pending writes waiting for BREAKER_COOLDOWN (30 s) more.
                keys = deliver_pending_now(close_circuit=True)
                messages.success(
                    request, f"Outage lifted; delivered the pending writes of {keys} key(s)."
                )
            else:
                messages.error(request, "Unknown action.")
        except EmulatorControlError as exc:
            messages.error(request, f"The emulator did not answer: {exc}")
        return redirect("demo:outage")
    reachable, outage_on = _emulator_status(control)
    health = outbox_health()
    context = {
        "reachable": reachable,
        "outage_on": outage_on,
        "base_url": settings.TALON["BASE_URL"],
        "pending_count": health.pending,
        "next_attempts": health.next_pending,
        "dead_count": health.dead,
        "open_discrepancies": health.open_discrepancies,
    }
    return render(request, "demo/outage.html", context)
