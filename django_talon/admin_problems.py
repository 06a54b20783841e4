"""Admin for sync problems (imported by :mod:`django_talon.admin`).

A :class:`~django_talon.models.SyncProblem` is what a receiver could not sync (an adapter
hook raised, a value was not JSON, the order ledger record failed). Staff read them here,
fix the cause in the shop's adapter, and mark them resolved (``change_syncproblem``; the change
page itself is view-only: there is nothing to edit, and a save rewrote the row);
``talon_check`` fails while any is unresolved. Rows are written by the receivers only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_talon.models import SyncProblem

__all__ = ["SyncProblemAdmin"]


@admin.register(SyncProblem)
class SyncProblemAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "stage", "subject", "short_error", "count", "last_seen_at", "resolved"]
    list_filter = ["resolved", "stage"]
    search_fields = ["subject", "error"]
    readonly_fields = [
        "stage",
        "subject",
        "error",
        "count",
        "created_at",
        "last_seen_at",
        "resolved",
        "resolved_at",
    ]
    actions = ["mark_resolved"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """View-only, like the mirrors: every field is read-only, yet "Save" full-saved the
        row, which moved ``last_seen_at`` (``auto_now``: it read as a recurrence) and could
        write back an old ``count`` over a receiver's concurrent bump. Staff change a
        problem only by marking it resolved (``has_resolve_permission``)."""
        return False

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        """The "mark as resolved" action's permission: ``change_syncproblem``."""
        return bool(request.user.has_perm("django_talon.change_syncproblem"))

    @admin.display(description=_("error"))
    def short_error(self, obj: SyncProblem) -> str:
        return obj.error if len(obj.error) <= 120 else obj.error[:119] + "…"

    @admin.action(description=_("Mark as resolved"), permissions=["resolve"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[SyncProblem]) -> None:
        from django_talon.services.problems import resolve_problems

        count = resolve_problems(queryset)
        self.message_user(
            request,
            ngettext("%(count)d problem resolved.", "%(count)d problems resolved.", count)
            % {"count": count},
            messages.SUCCESS,
        )
