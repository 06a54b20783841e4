"""Forms of the django-oscar integration: the voucher code and the dashboard reservation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from django_talon.views import CodeForm

__all__ = ["CodeForm", "ReservationForm"]

#: At most this many customers per reservation from the dashboard (one outbox row per 1000).
MAX_CUSTOMERS = 1000


class ReservationForm(forms.Form):
    """A coupon code and the customers (e-mail addresses, one a line) it is reserved for."""

    code = forms.CharField(label=_("Coupon code"), max_length=100, strip=True)
    customers = forms.CharField(
        label=_("Customers"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("E-mail addresses of registered customers, one a line."),
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        if any(ch.isspace() for ch in code) or not code.isprintable():
            raise forms.ValidationError(_("A code cannot contain spaces or control characters."))
        return code

    def clean_customers(self) -> list[Any]:
        emails = [e.strip() for e in self.cleaned_data["customers"].splitlines() if e.strip()]
        if not emails:
            raise forms.ValidationError(_("Name at least one customer."))
        if len(emails) > MAX_CUSTOMERS:
            raise forms.ValidationError(
                _("At most %(count)d customers at a time.") % {"count": MAX_CUSTOMERS}
            )
        # E-mail addresses are compared without case, as people type them ("Bob@Example.com"
        # is bob@example.com); one IN query, however many lines.
        users = list(
            get_user_model()
            ._default_manager.annotate(talon_email=Lower("email"))
            .filter(talon_email__in={e.lower() for e in emails})
        )
        known = {u.email.lower() for u in users}
        unknown = [e for e in emails if e.lower() not in known]
        if unknown:
            raise forms.ValidationError(
                _("No customer with the e-mail address: %(emails)s")
                % {"emails": ", ".join(unknown)}
            )
        return users
