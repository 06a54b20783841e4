"""Admin for the Talon.One mirrors: reservations, profiles, sessions, outbox, erasure audit.

What staff do here goes through :mod:`django_talon.services` (never the client directly), so
the admin obeys the same outbox, batching and kill-switch rules as the rest of the app. No
page shows the API key: the settings are never rendered, and errors stored on rows come from
the client, which never puts the key in messages.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, QuerySet, TextField
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_talon import (
    admin_ledger,  # noqa: F401  (registers the order ledger pages)
    admin_problems,  # noqa: F401  (registers the sync problems page)
)
from django_talon.admin_outcomes import report_releases, report_resyncs, tally
from django_talon.admin_reserve import RESERVE_PERMISSION, ReserveCouponForm, reserve_action_view
from django_talon.models import (
    CouponReservation,
    CustomerProfile,
    CustomerSession,
    DataDeletionRequest,
    OutboxMessage,
)
from django_talon.services.display import summarize_answer
from django_talon.services.outcomes import QUEUED, SENT, Delivery

#: What the reservation and profile actions need, besides staff status (the reserve action
#: needs :data:`~django_talon.admin_reserve.RESERVE_PERMISSION`).
RELEASE_PERMISSION = "django_talon.delete_couponreservation"
ERASE_PERMISSION = "django_talon.add_datadeletionrequest"

logger = logging.getLogger(__name__)


def _pretty_json(value: Any) -> str:
    return format_html(
        '<pre style="white-space: pre-wrap; max-height: 30em; overflow: auto">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str),
    )


def item_count(cart_items: Any) -> str:
    """The number of items of a stored cart, for the sessions list, whatever was stored.

    Why not ``int(item["quantity"])``: the cart is whatever the adapter returned, stored as
    JSON; a quantity ``"1.5"``, an item that is not an object or a cart that is not a list
    made the whole sessions list a 500. Unreadable quantities count as 0 and a cart that
    is not a list shows as "?"; the change page shows the stored JSON as it is.
    """
    if not isinstance(cart_items, list):
        return "?" if cart_items else "0"
    total = Decimal(0)
    for item in cart_items:
        value = item.get("quantity", 0) if isinstance(item, dict) else 0
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            continue
        try:
            quantity = Decimal(str(value).strip() or 0)
            if quantity.is_finite():
                total += quantity
        except ArithmeticError:  # "abc", a sum beyond Decimal's range
            continue
    return f"{total:g}"


def user_search_fields(prefix: str, user_model: Any = None) -> list[str]:
    """Search lookups for the customer's ``USERNAME_FIELD`` and ``get_email_field_name()``,
    those the user model (default: the one ``CustomerProfile.user`` points at) has as text.

    Why not ``user__username`` and ``user__email``: a custom user model without them (the
    e-mail as login, no ``username``) made every profile or reservation search a 500.
    """
    model: Any = user_model or CustomerProfile._meta.get_field("user").related_model
    email = getattr(model, "get_email_field_name", lambda: "email")()
    texts = {f.name for f in model._meta.get_fields() if isinstance(f, (CharField, TextField))}
    names = dict.fromkeys([getattr(model, "USERNAME_FIELD", "username"), email])
    return [f"{prefix}{name}" for name in names if name in texts]


class _ViewOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A mirror whose rows are written by the services/outbox, never added, edited or
    deleted by hand (superusers included: no "Delete selected", the delete view is 403).

    Staff change them only through actions, which call Talon.One as well; a hand-edited row
    would no longer match what Talon.One knows, and a deleted one leaves no trace: a pending
    outbox row is a write never delivered, a session row the mirror a cart's promotions
    and the erasure's tombstone link are read from.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --------------------------------------------------------------------------- reservations


def reserve_code_for_profiles(code: str, profiles: list[CustomerProfile]) -> int:
    """Reserve ``code`` for ``profiles`` once Talon.One accepted it (first ≤1000 ids now,
    the rest through the outbox).

    The check and the batching live in ``services.reserve_coupon_checked``; it raises
    ``services.ReservationRefused`` for a code Talon.One refuses (unknown, expired, used up)
    and ``TalonUnavailableError`` when it cannot ask: nothing is reserved then.
    """
    from django_talon import services

    return len(services.reserve_coupon_checked(code, profiles))


def release_code_for_profiles(code: str, profiles: list[CustomerProfile]) -> int:
    """Release ``code`` for ``profiles`` (one API call per ≤1000 ids, via the outbox)."""
    from django_talon import services

    return services.release_coupon(code, profiles)


@admin.register(CouponReservation)
class CouponReservationAdmin(_ViewOnlyAdmin):
    # Reservations are created through the action (which calls Talon.One), never by typing
    # rows that Talon.One would not know about: no add/change (_ViewOnlyAdmin), no delete.
    list_display = ["coupon_code", "profile", "customer", "created_at", "synced"]
    # No filter by code: it listed every distinct code on every page load (2,000 codes,
    # 190 KB); the search finds codes, and ?coupon_code=X still filters by URL.
    list_filter = [("synced_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["coupon_code", "profile__integration_id"]  # + the user's, see below
    list_select_related = ["profile", "profile__user"]
    readonly_fields = ["profile", "coupon_code", "created_at", "synced_at"]
    actions = ["release_selected", "reserve_for_same_customers"]
    date_hierarchy = "created_at"

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        """The customer's login name and e-mail, as far as the user model has them."""
        return [*super().get_search_fields(request), *user_search_fields("profile__user__")]

    @admin.display(description=_("customer"))
    def customer(self, obj: CouponReservation) -> str:
        user = obj.profile.user
        return str(user) if user is not None else "—"

    @admin.display(boolean=True, description=_("delivered"))
    def synced(self, obj: CouponReservation) -> bool:
        return obj.synced_at is not None

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting a row must release it in Talon.One too: use the "release" action.
        return False

    # The actions' permissions (``@admin.action(permissions=...)``): Django offers an action
    # only to staff who may run it, instead of a bare 403 after choosing it.
    def has_release_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(RELEASE_PERMISSION))

    def has_reserve_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(RESERVE_PERMISSION))

    @admin.action(
        description=_("Release the selected reservations in Talon.One"), permissions=["release"]
    )
    def release_selected(self, request: HttpRequest, queryset: QuerySet[CouponReservation]) -> None:
        """Release per code and report what Talon.One answered: released, queued (the outbox
        retries), or refused (the rows stay: Talon.One still holds them; see the dead letter)."""
        if not self.has_release_permission(request):
            raise PermissionDenied
        from django_talon.services.profiles import release_coupon_now

        by_code: dict[str, list[CustomerProfile]] = {}
        for row in queryset.select_related("profile"):
            by_code.setdefault(row.coupon_code, []).append(row.profile)
        results = []
        for code, profiles in by_code.items():
            try:
                done = release_coupon_now(code, profiles)
            except Exception as exc:
                logger.exception("Releasing %s from the admin failed", code)
                self.message_user(
                    request,
                    _("Could not release %(code)s: %(error)s") % {"code": code, "error": exc},
                    messages.ERROR,
                )
                continue
            if done.released:
                outcome = QUEUED if done.delivery.pending else SENT
                results.append((done.code, done.released, Delivery(outcome, done.delivery.reason)))
            if done.kept:
                results.append((done.code, done.kept, done.delivery))
        if results:
            report_releases(self, request, tally(results))
        elif by_code:
            self.message_user(request, _("No reservation was released."), messages.WARNING)

    @admin.action(
        description=_("Reserve another code for the customers of the selected rows"),
        permissions=["reserve"],
    )
    def reserve_for_same_customers(
        self, request: HttpRequest, queryset: QuerySet[CouponReservation]
    ) -> HttpResponse | None:
        profile_ids = set(queryset.values_list("profile_id", flat=True))
        profiles = list(CustomerProfile.objects.filter(pk__in=profile_ids, erased_at__isnull=True))
        return reserve_action_view(self, request, profiles)


# --------------------------------------------------------------------------- profiles


class CouponReservationInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CouponReservation
    fields = ["coupon_code", "created_at", "synced_at"]
    readonly_fields = ["coupon_code", "created_at", "synced_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CustomerProfile)
class CustomerProfileAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "integration_id",
        "user",
        "application",
        "last_synced_at",
        "has_error",
        "erased_at",
    ]
    list_filter = [("erased_at", admin.EmptyFieldListFilter), "last_synced_at", "application"]
    search_fields = ["integration_id"]  # + the user's login name and e-mail, see below
    list_select_related = ["user"]
    readonly_fields = [
        "user",
        "integration_id",
        "application",
        "attributes_json",
        "last_synced_at",
        "last_error",
        "erased_at",
        "created_at",
        "updated_at",
    ]
    exclude = ["attributes", "fingerprint", "pushed_fingerprint"]
    inlines = [CouponReservationInline]
    actions = ["reserve_coupon", "resync", "request_erasure"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        """The customer's login name and e-mail, as far as the user model has them."""
        return [*super().get_search_fields(request), *user_search_fields("user__")]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting the mirror would orphan Talon.One data: use "request erasure".
        return False

    @admin.display(description=_("attributes last sent"))
    def attributes_json(self, obj: CustomerProfile) -> str:
        return _pretty_json(obj.attributes)

    @admin.display(boolean=True, description=_("error"))
    def has_error(self, obj: CustomerProfile) -> bool:
        return bool(obj.last_error)

    # The actions' permissions (``@admin.action(permissions=...)``): Django offers an action
    # only to staff who may run it, instead of a bare 403 after choosing it. Resync uses
    # "change" (``has_change_permission``, i.e. ``change_customerprofile``).
    def has_reserve_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(RESERVE_PERMISSION))

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(ERASE_PERMISSION))

    @admin.action(
        description=_("Reserve a coupon code for the selected customers"), permissions=["reserve"]
    )
    def reserve_coupon(
        self, request: HttpRequest, queryset: QuerySet[CustomerProfile]
    ) -> HttpResponse | None:
        profiles = list(queryset.filter(erased_at__isnull=True).order_by("pk"))
        return reserve_action_view(self, request, profiles)

    @admin.action(
        description=_("Send the selected profiles to Talon.One again"), permissions=["change"]
    )
    def resync(self, request: HttpRequest, queryset: QuerySet[CustomerProfile]) -> None:
        """Deliver each profile now and report what Talon.One answered: sent, queued (the
        outbox retries it, with the reason) or refused (a dead letter, with its answer)."""
        # Calls Talon.One: like the other actions it needs a permission, not only staff
        # status (a support user who may view the profiles must not push them).
        if not request.user.has_perm("django_talon.change_customerprofile"):
            raise PermissionDenied
        from django_talon import services

        profiles = list(
            queryset.filter(erased_at__isnull=True, user__isnull=False).select_related("user")
        )
        if not profiles:
            self.message_user(
                request,
                _("Nothing was sent: the selected profiles are erased or have no user."),
                messages.WARNING,
            )
            return
        results = []
        for profile in profiles:
            try:
                results.append((profile.integration_id, 1, services.resync_profile(profile)))
            except Exception as exc:
                logger.exception("Resync of profile %s from the admin failed", profile.pk)
                self.message_user(
                    request,
                    _("Could not resync %(profile)s: %(error)s")
                    % {"profile": profile, "error": exc},
                    messages.ERROR,
                )
        report_resyncs(self, request, tally(results))

    @admin.action(
        description=_("Request erasure (GDPR) of the selected customers"), permissions=["erase"]
    )
    def request_erasure(
        self, request: HttpRequest, queryset: QuerySet[CustomerProfile]
    ) -> HttpResponse | None:
        if not self.has_erase_permission(request):
            raise PermissionDenied
        profiles = list(queryset.filter(erased_at__isnull=True))
        if not profiles:  # nothing to ask for: not a success, and no confirmation page
            self.message_user(
                request,
                _("The selected customers were already erased: nothing was requested."),
                messages.WARNING,
            )
            return None
        if request.POST.get("confirm") == "yes":
            from django_talon import services

            requested_by = f"staff:{request.user.pk}"
            for profile in profiles:
                services.erase_customer(
                    integration_id=profile.integration_id, requested_by=requested_by
                )
            self.message_user(
                request,
                ngettext(
                    "Erasure requested for %(count)d customer.",
                    "Erasure requested for %(count)d customers.",
                    len(profiles),
                )
                % {"count": len(profiles)},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Request erasure of customer data"),
            "opts": self.model._meta,
            "profiles": profiles,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across") == "1",
            "selected_ids": request.POST.getlist(ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/django_talon/confirm_erasure.html", context)


# --------------------------------------------------------------------------- sessions


@admin.register(CustomerSession)
class CustomerSessionAdmin(_ViewOnlyAdmin):
    list_display = [
        "integration_id",
        "profile",
        "application",
        "state",
        "item_count",
        "effects_received_at",
        "has_error",
        "updated_at",
    ]
    list_filter = ["state", ("effects_received_at", admin.EmptyFieldListFilter), "application"]
    search_fields = ["integration_id", "profile__integration_id", "cart_key"]
    list_select_related = ["profile"]
    fields = [
        "integration_id",
        "profile",
        "application",
        "state",
        "cart_key",
        "coupon_codes",
        "referral_code",
        "cart_json",
        "promotions",
        "effects_json",
        "attributes_json",
        "effects_received_at",
        "last_error",
        "created_at",
        "updated_at",
    ]
    readonly_fields = list(fields)  # type: ignore[arg-type]

    @admin.display(description=_("items"))
    def item_count(self, obj: CustomerSession) -> str:
        return item_count(obj.cart_items)

    @admin.display(boolean=True, description=_("error"))
    def has_error(self, obj: CustomerSession) -> bool:
        return bool(obj.last_error)

    @admin.display(description=_("cart"))
    def cart_json(self, obj: CustomerSession) -> str:
        return _pretty_json(obj.cart_items)

    @admin.display(description=_("effects (raw)"))
    def effects_json(self, obj: CustomerSession) -> str:
        return _pretty_json(obj.effects)

    @admin.display(description=_("attributes"))
    def attributes_json(self, obj: CustomerSession) -> str:
        return _pretty_json(obj.attributes)

    @admin.display(description=_("promotions"))
    def promotions(self, obj: CustomerSession) -> str:
        summary = summarize_answer(obj)
        rows = [
            format_html("<li>{} −{} {}</li>", d.name, d.amount, summary.currency)
            for d in summary.discounts
        ]
        rows += [
            format_html("<li>{} {}: {}</li>", _("coupon"), c.code, c.status)
            for c in [*summary.coupons, *summary.referrals]
        ]
        rows += [format_html("<li>{}: {}</li>", _("free item"), f.sku) for f in summary.free_items]
        total = format_html(
            "<p>{} {} − {} = {} {}</p>",
            _("Subtotal"),
            summary.subtotal,
            summary.total_discount,
            summary.total,
            summary.currency,
        )
        # Each row was built with format_html (escaped), so joining them is safe.
        return format_html("{}<ul>{}</ul>", total, mark_safe("".join(rows)))


# --------------------------------------------------------------------------- outbox


@admin.register(OutboxMessage)
class OutboxMessageAdmin(_ViewOnlyAdmin):
    list_display = [
        "id",
        "operation",
        "key",
        "application",
        "state",
        "attempts",
        "next_attempt_at",
        "short_error",
        "created_at",
    ]
    list_filter = ["state", "operation", "result", "application"]
    search_fields = ["key", "operation", "last_error"]
    fields = [
        "operation",
        "key",
        "application",
        "state",
        "result",
        "attempts",
        "next_attempt_at",
        "last_error",
        "payload_json",
        "created_at",
        "updated_at",
        "delivered_at",
    ]
    readonly_fields = list(fields)  # type: ignore[arg-type]
    actions = ["retry_dead_letters"]

    @admin.display(description=_("last error"))
    def short_error(self, obj: OutboxMessage) -> str:
        # The stored text starts with "deliver <operation>: ", which the operation column
        # already shows; without it the status and Talon.One's message fit the column.
        text = obj.last_error or ""
        prefix = f"deliver {obj.operation}: "
        if text.startswith(prefix):
            text = text[len(prefix) :]
        return text[:120]

    @admin.display(description=_("payload"))
    def payload_json(self, obj: OutboxMessage) -> str:
        return _pretty_json(obj.payload)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        """The action's permission: offered only to staff who may run it (the page is
        view-only, so not ``has_change_permission``, which is False for everyone)."""
        return bool(request.user.has_perm("django_talon.change_outboxmessage"))

    @admin.action(description=_("Retry the selected dead letters"), permissions=["retry"])
    def retry_dead_letters(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        if not self.has_retry_permission(request):
            raise PermissionDenied
        from django_talon import services

        ids = list(queryset.filter(state=OutboxMessage.State.DEAD).values_list("pk", flat=True))
        count = services.retry_dead_letters(ids) if ids else 0
        self.message_user(
            request,
            ngettext(
                "%(count)d dead letter queued again.", "%(count)d dead letters queued again.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )


# --------------------------------------------------------------------------- erasure audit


@admin.register(DataDeletionRequest)
class DataDeletionRequestAdmin(_ViewOnlyAdmin):
    """Read-only audit trail: rows are created by the erasure service, never edited."""

    list_display = [
        "id",
        "integration_id",
        "state",
        "requested_by",
        "requested_at",
        "attempts",
        "completed_at",
    ]
    list_filter = ["state", "requested_at"]
    search_fields = ["integration_id", "requested_by"]
    readonly_fields = [
        "integration_id",
        "requested_by",
        "requested_at",
        "state",
        "attempts",
        "last_error",
        "completed_at",
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


__all__ = [
    "CouponReservationAdmin",
    "CustomerProfileAdmin",
    "CustomerSessionAdmin",
    "DataDeletionRequestAdmin",
    "OutboxMessageAdmin",
    "ReserveCouponForm",
    "release_code_for_profiles",
    "reserve_code_for_profiles",
]
