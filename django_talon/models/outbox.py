"""Outbox rows: API writes waiting to be delivered, written in the caller's transaction."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """One pending (or delivered, or dead) Integration API write.

    ``key`` groups rows that must be delivered strictly in order and never in parallel
    (``session:<id>``, ``profile:<id>``, ``coupon:<code>``); ``operation`` names the handler
    in ``django_talon.outbox``. Rows are never updated by two processes at once: delivery
    locks the oldest pending row of a key (``SELECT ... FOR UPDATE NOWAIT``).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("done")
        DEAD = "dead", _("dead")

    operation = models.CharField(max_length=50)
    key = models.CharField(_("ordering key"), max_length=1100)
    payload = models.JSONField(default=dict, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True, default="")
    result = models.CharField(
        max_length=20,
        blank=True,
        default="",
        help_text=_("How a done row ended: sent, unchanged, superseded, disabled."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    #: The Application whose client delivers the row (its breaker and kill switch decide).
    application = models.CharField(
        _("Talon.One Application"),
        max_length=50,
        default="default",
        db_index=True,
        help_text=_(
            "The name in TALON['APPLICATIONS'] this row is delivered to ('default': the only one)."
        ),
    )

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["key", "state", "id"], name="django_talo_key_state"),
            models.Index(fields=["state", "next_attempt_at"], name="django_talo_state_due"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.key} ({self.state})"
