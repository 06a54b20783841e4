"""Which Application a new session or profile goes to: the adapter's choice, checked.

One place for the rule (sessions and profiles both ask the adapter), apart from both.
"""

from __future__ import annotations

import logging

from django_talon.conf import talon_settings

logger = logging.getLogger("django_talon.services")


def checked_application(name: str, hook: str) -> str:
    """``name``, as the adapter's ``hook`` chose it; logged as an error when no configured
    Application has it. Kept, not replaced by the default Application: that one may have
    another currency, and a cart priced there would be charged what it never was. The
    session's writes wait as dead letters until the Application is configured (then
    ``talon_outbox retry --all``); ``talon_check`` counts them."""
    if not talon_settings.config.is_configured(name):
        logger.error(
            "adapter.%s chose the Talon.One Application %r, which TALON['APPLICATIONS'] does "
            "not configure: its writes are kept as dead letters until it is",
            hook,
            name,
        )
    return name


def resolved_application(name: str) -> str:
    """The configured Application ``name`` stands for (a row's ``"default"`` is the default
    Application, whatever it is called in ``TALON["APPLICATIONS"]``), so two rows naming
    the same Application differently are one; a name no longer configured stays as it is
    (its writes wait as dead letters, as for :func:`checked_application`)."""
    from django_talon import resilience

    return resilience.application_name(name) if resilience.knows_application(name) else name
