"""A project overrides a partial by shipping ``templates/django_talon/<name>.html``.

docs/templates.md promises this (the usual Django template override, project ``DIRS``
before ``APP_DIRS``); the tags must look their templates up by that name, not load the
app's file directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import override_settings

from tests.surfaces.helpers import effect, make_session, request_for

pytestmark = pytest.mark.django_db

PARTIALS = [
    ("cart_summary.html", "{% talon_cart_summary %}"),
    ("coupon_form.html", "{% talon_coupon_form %}"),
    ("referral_form.html", "{% talon_referral_form %}"),
    ("reserved_coupons.html", "{% talon_reserved_coupons %}"),
    ("loyalty.html", "{% talon_loyalty %}"),
    ("notifications.html", "{% talon_notifications %}"),
]


@pytest.mark.parametrize(("name", "tag"), PARTIALS)
def test_project_template_overrides_the_partial(tmp_path: Path, name: str, tag: str) -> None:
    folder = tmp_path / "django_talon"
    folder.mkdir()
    (folder / name).write_text(f"OVERRIDDEN {name}")
    templates: list[dict[str, Any]] = [
        {**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]},
        *settings.TEMPLATES[1:],
    ]
    session = make_session(effects=[effect("setDiscount", 1, name="Welcome 10%", value=1)])
    with override_settings(TEMPLATES=templates):
        html = Template("{% load talon %}" + tag).render(Context({"request": request_for(session)}))
    assert html.strip() == f"OVERRIDDEN {name}"
