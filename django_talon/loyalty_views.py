"""The plain Django view behind ``{% talon_points_form %}``: spend points on the cart (or
stop), then go back to the page with a message. Works without JavaScript and without DRF.

Like the code views it answers with Talon.One's verdict in the same request, also under
``ATOMIC_REQUESTS`` (:func:`~django_talon.views.own_transaction`): the wish is committed in
the view's own transaction, so the immediate delivery has run and the cart shows the
discount when the shopper comes back.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.formats import get_format, number_format, sanitize_separators
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from django_talon import services
from django_talon.exceptions import TalonUnavailableError
from django_talon.services.loyalty import RedemptionError, clear_redemption, redeem_points
from django_talon.views import _back, own_transaction

logger = logging.getLogger(__name__)

__all__ = ["redeem"]


def _points_from_form(text: str) -> str:
    """The points the shopper typed, read for the active locale as Django's own form fields
    read numbers (``sanitize_separators``): a German "1.000" is one thousand, not 1.

    A dot that is neither the locale's decimal separator nor its thousands separator in use
    (German or French without ``USE_THOUSAND_SEPARATOR``) is ambiguous, "1.000" one point or
    a thousand: refused with a sentence rather than guessed. The service itself stays
    locale-free for the REST API."""
    text = text.strip() or "0"
    grouping = get_format("THOUSAND_SEPARATOR") if settings.USE_THOUSAND_SEPARATOR else ""
    if "." in text and get_format("DECIMAL_SEPARATOR") != "." and grouping != ".":
        raise RedemptionError(_("Enter a whole number of points without separators, such as 1000."))
    return str(sanitize_separators(text))


@own_transaction
@require_POST
def redeem(request: HttpRequest) -> HttpResponse:
    """POST ``points`` (and ``next``; ``action=clear`` or 0 spends none): the points the
    signed-in shopper wants to spend on the current cart."""
    session = services.session_for_request(request)
    if session is None:
        messages.error(request, _("Add something to your cart first."))
        return _back(request)
    clear = request.POST.get("action") == "clear"
    try:
        with transaction.atomic():
            if clear:
                session = clear_redemption(session)
            else:
                points = _points_from_form(request.POST.get("points", ""))
                session = redeem_points(session, points)
    except RedemptionError as exc:
        messages.error(request, str(exc))
        return _back(request)
    except TalonUnavailableError:
        logger.warning("Talon.One unavailable while spending points")
        messages.warning(request, _("Your points cannot be used right now. Please try again."))
        return _back(request)
    if session.points_to_redeem:
        wish = session.points_to_redeem
        messages.success(
            request,
            ngettext("%(points)s point will be used.", "%(points)s points will be used.", wish)
            % {"points": number_format(wish)},
        )
    else:
        messages.success(request, _("No points will be used."))
    return _back(request)
