"""How the admin words what became of a write it delivered now (imported by the actions).

Why: an action that says "Sent" because nothing raised told staff a refused or queued write
had reached Talon.One (the outbox never raises for a failed delivery). The actions deliver
now and get a :class:`~django_talon.services.outcomes.Delivery` back; this module groups
them by outcome and links a refusal to its dead letters in the Outbox page. Reasons are the
stored, redacted errors: never the API key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from django_talon.services.outcomes import QUEUED, REFUSED, SENT, Delivery

__all__ = ["Tally", "dead_letters_link", "report_releases", "report_resyncs", "tally"]


@dataclass
class Tally:
    """How many subjects (profiles, reservations) ended in one outcome, and the first one's
    name and reason (one message per outcome, not one per row of a "select all")."""

    count: int = 0
    example: str = ""
    reason: str = ""
    keys: tuple[str, ...] = ()


def tally(results: Iterable[tuple[str, int, Delivery]]) -> dict[str, Tally]:
    """``(name, count, delivery)`` triples grouped by outcome (sent, queued, refused)."""
    found = {SENT: Tally(), QUEUED: Tally(), REFUSED: Tally()}
    for name, count, delivery in results:
        each = found[delivery.outcome]
        if not each.example:
            each.example, each.reason = name, delivery.reason
        each.count += count
        each.keys = tuple(dict.fromkeys([*each.keys, *(row.key for row in delivery.dead)]))
    return found


def dead_letters_link(keys: Iterable[str] = ()) -> str:
    """A link to the Outbox's dead letters (of the one key, when there is one)."""
    keys = list(keys)
    query = {"state__exact": "dead", **({"q": keys[0]} if len(keys) == 1 else {})}
    try:
        url = reverse("admin:django_talon_outboxmessage_changelist")
    except NoReverseMatch:  # an admin site without the outbox page: the words alone
        return _("the Outbox dead letters")
    return format_html(
        '<a href="{}?{}">{}</a>', url, urlencode(query), _("the Outbox dead letters")
    )


def report_releases(
    modeladmin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    found: dict[str, Tally],
) -> None:
    """One message per outcome of the release action."""
    sent, queued, refused = found[SENT], found[QUEUED], found[REFUSED]
    if sent.count:
        modeladmin.message_user(
            request,
            ngettext(
                "Released %(count)d reservation in Talon.One.",
                "Released %(count)d reservations in Talon.One.",
                sent.count,
            )
            % {"count": sent.count},
            messages.SUCCESS,
        )
    if queued.count:
        modeladmin.message_user(
            request,
            ngettext(
                "Released %(count)d reservation here, queued for Talon.One, which did not "
                "confirm it yet: the outbox will retry (%(code)s: %(reason)s).",
                "Released %(count)d reservations here, queued for Talon.One, which did not "
                "confirm them yet: the outbox will retry (%(code)s: %(reason)s).",
                queued.count,
            )
            % {"count": queued.count, "code": queued.example, "reason": queued.reason},
            messages.WARNING,
        )
    if refused.count:
        modeladmin.message_user(
            request,
            format_html(
                ngettext(
                    "Talon.One refused to release {count} reservation ({code}: {reason}): it "
                    "still holds it, so it stays listed here; see {link}.",
                    "Talon.One refused to release {count} reservations ({code}: {reason}): it "
                    "still holds them, so they stay listed here; see {link}.",
                    refused.count,
                ),
                count=refused.count,
                code=refused.example,
                reason=refused.reason,
                link=dead_letters_link(refused.keys),
            ),
            messages.ERROR,
        )


def report_resyncs(
    modeladmin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    found: dict[str, Tally],
) -> None:
    """One message per outcome of the resync action."""
    sent, queued, refused = found[SENT], found[QUEUED], found[REFUSED]
    if sent.count:
        modeladmin.message_user(
            request,
            ngettext(
                "Sent %(count)d profile to Talon.One.",
                "Sent %(count)d profiles to Talon.One.",
                sent.count,
            )
            % {"count": sent.count},
            messages.SUCCESS,
        )
    if queued.count:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d profile is queued, not sent: Talon.One did not take it and the "
                "outbox will retry (%(profile)s: %(reason)s).",
                "%(count)d profiles are queued, not sent: Talon.One did not take them and the "
                "outbox will retry (%(profile)s: %(reason)s).",
                queued.count,
            )
            % {"count": queued.count, "profile": queued.example, "reason": queued.reason},
            messages.WARNING,
        )
    if refused.count:
        modeladmin.message_user(
            request,
            format_html(
                ngettext(
                    "Talon.One refused {count} profile ({profile}: {reason}); see {link}.",
                    "Talon.One refused {count} profiles ({profile}: {reason}); see {link}.",
                    refused.count,
                ),
                count=refused.count,
                profile=refused.example,
                reason=refused.reason,
                link=dead_letters_link(refused.keys),
            ),
            messages.ERROR,
        )
