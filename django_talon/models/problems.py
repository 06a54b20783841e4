"""Sync problems: a cart, profile or order change that could not be turned into a write.

Why a table and not a log line: a receiver must never break the shop's save, so it catches
what an adapter hook raised (a bug in the shop's adapter, a value that is not JSON, a failed
ledger record). Logged only, such a failure stopped every cart sync while ``talon_check``
said "configuration OK". A row here is shown in the admin and counted by ``talon_check``
(non-zero exit) until staff mark it resolved.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SyncProblem(models.Model):
    """One kind of failure for one subject; a repeat bumps ``count`` and ``last_seen_at``."""

    class Stage(models.TextChoices):
        CART = "cart", _("cart update")
        CART_DELETE = "cart_delete", _("cart deleted")
        CART_MERGE = "cart_merge", _("cart merge")
        PROFILE = "profile", _("profile update")
        LOGIN = "login", _("login attach")
        ORDER = "order", _("order state")
        PLACEMENT = "placement", _("order placement record")

    stage = models.CharField(max_length=20, choices=Stage.choices)
    subject = models.CharField(
        max_length=255,
        help_text=_("What failed: a cart key, 'user:<pk>' or an order key."),
    )
    error = models.TextField(help_text=_("The exception, as the code raised it."))
    count = models.PositiveIntegerField(default=1)
    resolved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sync problem")
        verbose_name_plural = _("sync problems")
        ordering = ["-last_seen_at", "-id"]
        indexes = [
            models.Index(fields=["resolved", "stage", "subject"], name="django_talo_problem_open")
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.subject}: {self.error[:80]}"
