"""The shipped English catalog compiles and holds every shopper-facing rejection message."""

from __future__ import annotations

import gettext
from pathlib import Path

from django.utils import translation

import django_talon
from django_talon import messages

LOCALE = Path(django_talon.__file__).parent / "locale"


def test_english_catalog_is_compiled_and_complete() -> None:
    mo = LOCALE / "en" / "LC_MESSAGES" / "django.mo"
    po = LOCALE / "en" / "LC_MESSAGES" / "django.po"
    assert po.is_file() and mo.is_file()
    with mo.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    ids = set(catalog._catalog)  # type: ignore[attr-defined]
    wanted = [
        *messages.COUPON_REJECTION_MESSAGES.values(),
        *messages.REFERRAL_REJECTION_MESSAGES.values(),
        messages.GENERIC_COUPON_MESSAGE,
        messages.GENERIC_REFERRAL_MESSAGE,
    ]
    with translation.override(None):  # NullTranslations: str() gives the msgid
        missing = [str(m) for m in wanted if str(m) not in ids]
    assert missing == []
    for text in (
        "Total after discounts",
        "Coupon code",
        "Reserve a coupon code",
        "%(amount)s %(currency)s",
    ):
        assert text in ids, text
