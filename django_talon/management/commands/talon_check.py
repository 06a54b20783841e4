"""``manage.py talon_check``: is Talon.One reachable with the configured key, and how is the outbox?

Why: "discounts do not show" is, nine times out of ten, a wrong key, a wrong base URL or a
stuck outbox. This command answers all three in one go, against the real configuration,
without ever printing the key. It makes one harmless API call: a *dry* session update
(``PUT /v2/customer_sessions/{id}?dry=true``), which Talon.One evaluates but never stores;
it is the only Django-side call that bypasses ``resilience.guarded`` (see
:func:`build_client`).

It prints the currency it assumes (``TALON["CURRENCY"]``, per Application with
``TALON["APPLICATIONS"]``): the quote and the order ledger round every amount to that
currency's minor unit, so it must be the Application's. The Integration API does not say
which currency an Application has; the emulator does (``GET /_emulator/state``), so when the
base URL is the emulator's a mismatch is printed as a warning (see :func:`emulator_currency`).
Exit status 0 when everything is fine, 1 (CommandError) otherwise, so it fits a deploy check.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_talon.conf import talon_settings

CHECK_SESSION_ID = "django-talon-check"

#: Seconds to wait for the emulator's state (a local process: it answers at once or not).
EMULATOR_STATE_TIMEOUT = 5.0


def describe_key(key: str) -> str:
    """Say whether a key is set without revealing any of it (not even a suffix)."""
    return f"set ({len(key)} characters)" if key else "NOT SET"


def outbox_health() -> dict[str, Any]:
    """Counts per outbox state and the age of the oldest pending row (seconds)."""
    from django.db.models import Count, Min
    from django.utils import timezone

    from django_talon.models import OutboxMessage

    counts = {
        row["state"]: row["n"]
        for row in OutboxMessage.objects.values("state").annotate(n=Count("id")).order_by()
    }
    oldest = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    return {
        "pending": counts.get(OutboxMessage.State.PENDING, 0),
        "dead": counts.get(OutboxMessage.State.DEAD, 0),
        "done": counts.get(OutboxMessage.State.DONE, 0),
        "oldest_pending_age_s": (
            round((timezone.now() - oldest).total_seconds(), 1) if oldest else None
        ),
    }


def unconfigured_applications() -> dict[str, int]:
    """Outbox rows not delivered yet (pending or dead) per Application name that no
    configured Application has: an adapter hook chose a name missing from
    ``TALON["APPLICATIONS"]`` (or one was removed). Those writes only wait; the command
    says so instead of "OK"."""
    from django.db.models import Count

    from django_talon.models import OutboxMessage

    waiting = (
        OutboxMessage.objects.exclude(state=OutboxMessage.State.DONE)
        .values("application")
        .annotate(n=Count("id"))
        .order_by()
    )
    config = talon_settings.config
    return {
        row["application"]: row["n"]
        for row in waiting
        if not config.is_configured(row["application"])
    }


def sync_problems() -> int:
    """Unresolved :class:`~django_talon.models.SyncProblem` rows: changes the receivers could
    not turn into a Talon.One write (an adapter hook raised, a value was not JSON)."""
    from django_talon.services.problems import open_problems

    return open_problems().count()


def build_client(application: str | None = None) -> Any:
    """The configured client, taken directly: the one call outside ``resilience.guarded``.

    On purpose: this command diagnoses the connection, so it must call Talon.One even while
    the kill switch is on or the circuit is open (``guarded`` would refuse, and the report
    would say nothing about the key or the URL), and its probe must not move the breaker
    that real traffic depends on (a failed probe is reported, not counted).
    """
    from django_talon import resilience

    return resilience.get_client(application=application)


def api_probe(application: str | None = None) -> dict[str, Any]:
    """One dry session update (to ``application``; None: the default one); returns
    ok/latency/effects or the error (never the key)."""
    from django_talon.client import TalonError
    from django_talon.client.errors import TalonAPIError, TalonUnauthorized

    client = build_client(application)
    started = time.perf_counter()
    try:
        state = client.update_customer_session_v2(
            CHECK_SESSION_ID,
            {"profileId": "", "state": "open", "cartItems": []},
            dry=True,
        )
    except TalonUnauthorized as exc:
        return {"ok": False, "error": f"the API key was rejected (401): {exc}"}
    except TalonAPIError as exc:
        return {"ok": False, "error": f"Talon.One answered {exc.status}: {exc}"}
    except TalonError as exc:
        return {"ok": False, "error": f"cannot reach Talon.One: {exc}"}
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return {"ok": True, "latency_ms": latency_ms, "effects": len(state.effects)}


def _may_be_emulator(base_url: str) -> bool:
    """Whether ``base_url`` may be the emulator: this machine, or a host named like it (as
    the W002 check tells them). A real Talon.One deployment is never asked for
    ``/_emulator/``."""
    from urllib.parse import urlsplit

    from django_talon.checks import LOCAL_HOSTS

    host = (urlsplit(base_url).hostname or "").lower()
    return host in LOCAL_HOSTS or "emulator" in host


def emulator_currency(base_url: str) -> dict[str, Any]:
    """The Application currency the emulator at ``base_url`` runs with.

    ``{"currency": "EUR"}`` from the emulator's state (``GET /_emulator/state``,
    ``application.currency``); ``{"currency": None, "why": ...}`` when the base URL is not
    the emulator's or its state cannot be read. The Integration API has no such field, so a
    real deployment's currency is not checked (it is the Application's setting in the
    Campaign Manager).
    """
    if not _may_be_emulator(base_url):
        return {"currency": None, "why": "not the emulator: check the Application's settings"}
    from django_talon.emulator.control import EmulatorControl, EmulatorControlError

    try:
        state = EmulatorControl(base_url, timeout=EMULATOR_STATE_TIMEOUT).state()
    except (EmulatorControlError, ValueError) as exc:  # not the emulator, or no JSON
        return {"currency": None, "why": f"no emulator state at this URL ({exc})"}
    application = state.get("application")
    currency = application.get("currency") if isinstance(application, dict) else None
    if not isinstance(currency, str) or not currency:
        return {"currency": None, "why": "the emulator's state names no currency"}
    return {"currency": currency.upper()}


def _currency_warning(label: str, configured: str, found: dict[str, Any]) -> str | None:
    """The warning for a configured currency the emulator's Application does not have."""
    actual = found.get("currency")
    if actual is None or actual == (configured or "").upper():
        return None
    from django_talon.promotions.money import currency_exponent

    shop, talon = currency_exponent(configured), currency_exponent(actual)
    return (
        f"{label} is {configured!r} but the emulator's Application currency is {actual!r}: "
        f"quotes and the order ledger show Talon.One's amounts as {configured} and round them "
        f"to {shop} decimal(s) (the Application's currency has {talon})"
    )


def _applications(problems: list[str], warnings: list[str]) -> dict[str, Any]:
    """``TALON["APPLICATIONS"]``: one probe per Application, each with its own key."""
    found: dict[str, Any] = {}
    for name, app in talon_settings.config.applications.items():
        entry: dict[str, Any] = {
            "base_url": app.BASE_URL or "NOT SET",
            "api_key": describe_key(app.API_KEY),
            "currency": app.CURRENCY,
        }
        if app.BASE_URL and app.API_KEY:
            entry["api"] = api_probe(name)
            if not entry["api"]["ok"]:
                problems.append(f"Application {name!r}: {entry['api']['error']}")
            else:
                entry["application_currency"] = emulator_currency(app.BASE_URL)
                warning = _currency_warning(
                    f"Application {name!r} CURRENCY", app.CURRENCY, entry["application_currency"]
                )
                if warning:
                    warnings.append(warning)
        else:
            problems.append(f"Application {name!r} has no BASE_URL or API_KEY")
        found[name] = entry
    return found


class Command(BaseCommand):
    help = "Check the Talon.One configuration: one dry API call with the configured key, plus outbox health."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
        parser.add_argument(
            "--skip-outbox",
            action="store_true",
            help="Do not query the outbox and sync problem tables.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django_talon import resilience
        from django_talon.tasks import CELERY_INSTALLED

        base_url = talon_settings.BASE_URL
        api_key = talon_settings.API_KEY
        report: dict[str, Any] = {
            "base_url": base_url or "NOT SET",
            "api_key": describe_key(api_key),
            "enabled": talon_settings.ENABLED,
            "delivery": talon_settings.DELIVERY,
            "celery_installed": CELERY_INSTALLED,
            "resilience": resilience.health(),
        }
        problems: list[str] = []
        warnings: list[str] = []
        if not report["resilience"]["enabled"]:
            problems.append("the kill switch is on (TALON['ENABLED'] or set_kill_switch)")
        if talon_settings.APPLICATIONS:
            report["applications"] = _applications(problems, warnings)
        else:
            report["currency"] = talon_settings.CURRENCY
            if not base_url:
                problems.append("TALON['BASE_URL'] is not set")
            if not api_key:
                problems.append("TALON['API_KEY'] is not set")
            if base_url and api_key:
                report["api"] = api_probe()
                if not report["api"]["ok"]:
                    problems.append(report["api"]["error"])
                else:
                    report["application_currency"] = emulator_currency(base_url)
                    warning = _currency_warning(
                        "TALON['CURRENCY']", talon_settings.CURRENCY, report["application_currency"]
                    )
                    if warning:
                        warnings.append(warning)
        if not options["skip_outbox"]:
            report["outbox"] = outbox_health()
            if report["outbox"]["dead"]:
                problems.append(
                    f"{report['outbox']['dead']} dead outbox message(s): see "
                    "`manage.py talon_outbox list`"
                )
            report["outbox"]["unconfigured_applications"] = unconfigured = (
                unconfigured_applications()
            )
            for name, count in sorted(unconfigured.items()):
                problems.append(
                    f"{count} outbox message(s) for the Application {name!r}, which "
                    "TALON['APPLICATIONS'] does not configure (chosen by the adapter's "
                    "application_for_cart / application_for_user?): configure it, then "
                    "`manage.py talon_outbox retry --all`"
                )
            report["sync_problems"] = sync_problems()
            if report["sync_problems"]:
                problems.append(
                    f"{report['sync_problems']} unresolved sync problem(s): see the admin's "
                    "Sync problems page (docs/adapters.md#what-is-recorded)"
                )
        report["ok"] = not problems
        report["warnings"] = warnings  # printed, not failing: the exit status is for problems

        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, sort_keys=True))
        else:
            self._print(report)
        if problems:
            raise CommandError("; ".join(problems))

    def _print(self, report: dict[str, Any]) -> None:
        if "applications" in report:
            # Each Application has its own URL and key, listed below: the top-level ones
            # ("NOT SET" when APPLICATIONS carries them all) would read as a problem.
            self.stdout.write("Base URL:  per Application (below)")
            self.stdout.write("API key:   per Application (below)")
        else:
            self.stdout.write(f"Base URL:  {report['base_url']}")
            self.stdout.write(f"API key:   {report['api_key']}")
        self.stdout.write(
            f"Enabled:   {report['enabled']}   delivery: {report['delivery']}   "
            f"celery installed: {report['celery_installed']}"
        )
        breaker = report["resilience"]["breaker"]
        self.stdout.write(f"Breaker:   {breaker}")
        if "currency" in report:
            found = report.get("application_currency") or {}
            known = (
                f"the emulator's Application: {found['currency']}"
                if found.get("currency")
                else found.get("why", "not checked")
            )
            self.stdout.write(
                f"Currency:  {report['currency']} (TALON['CURRENCY'], taken to be the "
                f"Application's: quotes and the ledger round to it; {known})"
            )
        api = report.get("api")
        if api is not None:
            if api["ok"]:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"API:       OK ({api['latency_ms']} ms, dry session update, "
                        f"{api['effects']} effect(s))"
                    )
                )
            else:
                self.stdout.write(self.style.ERROR(f"API:       FAILED: {api['error']}"))
        outbox = report.get("outbox")
        if outbox is not None:
            age = outbox["oldest_pending_age_s"]
            self.stdout.write(
                f"Outbox:    {outbox['pending']} pending"
                + (f" (oldest {age}s)" if age is not None else "")
                + f", {outbox['dead']} dead, {outbox['done']} done"
            )
        if "sync_problems" in report:
            self.stdout.write(f"Problems:  {report['sync_problems']} unresolved sync problem(s)")
        for name, app in report.get("applications", {}).items():
            api = app.get("api") or {"ok": False, "error": "not probed"}
            state = f"OK ({api['latency_ms']} ms)" if api["ok"] else f"FAILED: {api['error']}"
            self.stdout.write(
                f"Application {name}: {app['base_url']}, key {app['api_key']}, "
                f"{app['currency']}: {state}"
            )
        for warning in report["warnings"]:
            self.stdout.write(self.style.WARNING(f"WARNING:   {warning}"))
        if report["ok"]:
            self.stdout.write(self.style.SUCCESS("Talon.One configuration OK"))
