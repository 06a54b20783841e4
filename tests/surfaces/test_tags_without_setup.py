"""Tags in templates a shop writes (an e-mail, a page without loyalty set up): what a missing
setting or variable does is render nothing, never a 500 for every signed-in customer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.template import Context, Template

from tests.surfaces.helpers import effect, make_session, request_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "tag", ["talon_loyalty_balance", "talon_loyalty_history", "talon_points_form"]
)
def test_a_loyalty_tag_without_a_program_renders_nothing(
    tag: str, settings: Any, django_user_model: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """``LOYALTY_PROGRAM_ID`` unset (the default): the tags raised ImproperlyConfigured."""
    settings.TALON = {**settings.TALON, "LOYALTY_PROGRAM_ID": None}
    user = django_user_model.objects.create_user("ann", password="x")
    html = Template("{% load talon_loyalty %}{% " + tag + " %}").render(
        Context({"request": request_for(None, user)})
    )
    assert html == ""
    assert "LOYALTY_PROGRAM_ID" in caplog.text


def test_total_after_discount_without_a_summary(django_user_model: Any) -> None:
    """A template that left ``promotions`` out (``{% talon_total_after_discount p %}`` with no
    ``p``) raised AttributeError: it shows the request's cart's total, or nothing."""
    session = make_session(
        effects=[effect("setDiscount", 1, name="Welcome 10%", value=10.6)],
        cart=[{"sku": "ESPRESSO-250", "name": "Espresso", "price": 53.0, "quantity": 2}],
    )
    request = request_for(session)
    source = Template("{% load talon %}{% talon_total_after_discount missing %}")
    assert source.render(Context({"request": request})).strip() == str(Decimal("95.40"))
    assert source.render(Context({})).strip() == ""
    assert source.render(Context({"missing": None})).strip() == ""
