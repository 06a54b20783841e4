"""REST endpoints (DRF). All reads come from the local mirror; see docs/rest-api.md.

Customer endpoints act on the caller's own cart/profile only (there is no id in the URL that
could point at someone else's data, and detail lookups are filtered by owner, so foreign
objects answer 404). Staff endpoints need the ``CouponReservation`` model permission of the
matching admin action (:class:`TalonStaffPermission`; ``is_staff`` alone is not enough).
Code attempts are throttled (:class:`CodeAttemptThrottle`). Views do not
catch django-talon's errors: :mod:`django_talon.api.errors` answers them (503/502, or the
4xx a view's ``talon_refused`` gives a refusal).
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_talon import services
from django_talon.adapters import get_adapter
from django_talon.api.authentication import TalonAuthenticationMixin
from django_talon.api.errors import (  # the two exceptions lived here first: re-exported
    BadGateway,
    ServiceUnavailable,  # noqa: F401
    TalonErrorHandlingMixin,
)
from django_talon.api.parsers import TalonParsersMixin
from django_talon.api.permissions import TalonStaffPermission
from django_talon.api.schema import extend_schema, responses
from django_talon.api.serializers import (
    CodeResultSerializer,
    CodeSerializer,
    CouponReservationSerializer,
    InventorySerializer,
    PromotionsSerializer,
    ReferralCreateSerializer,
    ReferralSerializer,
    ReservedCustomerSerializer,
    StaffReservationSerializer,
    inventory_data,
)
from django_talon.api.throttles import CodeAttemptThrottle
from django_talon.conf import talon_settings
from django_talon.exceptions import TalonRequestFailedError
from django_talon.models import (
    CouponReservation,
    CustomerProfile,
    CustomerSession,
    DataDeletionRequest,
    Referral,
)
from django_talon.promotions import CodeResult
from django_talon.promotions.codes import find_code, same_code
from django_talon.services.display import refused_update, summarize_request, summarize_session
from django_talon.views import own_transaction, resend_refused

logger = logging.getLogger(__name__)


class TalonAPIView(TalonAuthenticationMixin, TalonErrorHandlingMixin, TalonParsersMixin, APIView):
    """Base view: drf-spectacular's schema class even if the project's default differs, the
    authentication classes of ``TALON["REST_AUTHENTICATION_CLASSES"]`` (not the project's
    defaults: :mod:`django_talon.api.authentication`), django-talon's errors answered by
    :mod:`django_talon.api.errors` (no try/except here), and parsers for which a body nested
    too deeply is a 400 (:mod:`django_talon.api.parsers`)."""

    schema = AutoSchema()


class TalonGenericView(
    TalonAuthenticationMixin,
    TalonErrorHandlingMixin,
    TalonParsersMixin,
    generics.GenericAPIView,  # type: ignore[type-arg]
):
    """:class:`TalonAPIView`'s behaviour for DRF's generic (list/detail) views."""

    schema = AutoSchema()


CodeAppliedSerializer = inline_serializer(
    "CodeApplied",
    fields={
        "result": CodeResultSerializer(),
        "promotions": PromotionsSerializer(),
    },
)


# --------------------------------------------------------------------------- cart


class PromotionsView(TalonAPIView):
    """The current cart's promotions (discounts, free items, codes, loyalty, notifications)."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses=responses({200: PromotionsSerializer}), operation_id="talon_promotions"
    )
    def get(self, request: Request) -> Response:
        return Response(PromotionsSerializer(summarize_request(request._request)).data)


class _CodeView(TalonAPIView):
    """Code writes answer with Talon.One's verdict (200), also under ``ATOMIC_REQUESTS``:
    the view runs outside the request transaction and commits its write itself, so the
    immediate delivery has run before the response (202 only when it could not, and the
    outbox retries it; a 502 when Talon.One refused the update for good, a dead letter)."""

    permission_classes = [AllowAny]
    throttle_classes = [CodeAttemptThrottle]
    kind = "coupon"

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        return own_transaction(super().as_view(**initkwargs))

    def _session(self, request: Request, *, create: bool) -> CustomerSession:
        """The open session of the visitor's cart; 404 when there is no cart.

        ``create`` makes a session only for a cart the adapter knows (an empty cart gets
        its first code): a code sent before there is any cart would belong to no cart and
        be lost when the first item creates one, so it is refused with 404, as the HTML
        form says "Add something to your cart first."
        """
        session = services.session_for_request(request._request)
        if session is None and create and get_adapter().cart_for_request(request._request):
            session = services.session_for_request(request._request, create=True)
        if session is None:
            raise NotFound(_("There is no cart to apply a code to."))
        if not session.is_open:
            raise NotFound(_("The cart is already checked out."))
        return session

    def _apply(self, request: Request) -> Response:
        serializer = CodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code = serializer.validated_data["code"]
        with transaction.atomic():  # committed here: the immediate delivery runs before we answer
            session = self._session(request, create=True)
            if self.kind == "coupon":
                session = services.apply_coupon(session, code)
            else:
                session = services.apply_referral(session, code)
            resend_refused(session)
        if not transaction.get_connection().in_atomic_block:
            session.refresh_from_db()  # the answer the immediate delivery stored
        services.remember_session(request._request, session)
        if refused_update(session) is not None:
            # Talon.One refused the update carrying the code (a 400/404 is permanent: a dead
            # letter at once): nothing will deliver it, so "202, queued" would be a lie.
            raise BadGateway(self._refused_detail(code))
        summary = summarize_session(session)
        results = summary.coupons if self.kind == "coupon" else summary.referrals
        result = next(
            (r for r in results if same_code(r.code, code)),
            CodeResult(code, self.kind, "pending"),  # type: ignore[arg-type]
        )
        body = {
            "result": CodeResultSerializer(result).data,
            "promotions": PromotionsSerializer(summary).data,
        }
        # 202: queued, Talon.One has not answered yet (the outbox delivers it later).
        code_status = status.HTTP_202_ACCEPTED if result.status == "pending" else status.HTTP_200_OK
        return Response(body, status=code_status)

    def _refused_detail(self, code: str) -> str:
        if self.kind == "coupon":
            text = _("Talon.One refused the cart update with coupon %(code)s; it is not applied.")
        else:
            text = _(
                "Talon.One refused the cart update with referral code %(code)s; it is not applied."
            )
        return text % {"code": code}


#: What applying a code can answer besides 200/202 (and 401/403).
CODE_ERRORS = (400, 404, 429, 502, 503)
E502_CODE = (
    "Talon.One answered an error, or refused the cart update carrying the code for good "
    "(a dead letter, never retried): the code is not applied"
)


class CouponsView(_CodeView):
    """Apply a coupon code to the current cart."""

    kind = "coupon"

    @extend_schema(
        request=CodeSerializer,
        responses=responses(
            {
                200: OpenApiResponse(CodeAppliedSerializer, description="Answered by Talon.One"),
                202: OpenApiResponse(CodeAppliedSerializer, description="Queued, not answered yet"),
            },
            *CODE_ERRORS,
            e404="No open cart (add something to the cart first)",
            e502=E502_CODE,
        ),
        operation_id="talon_coupon_apply",
    )
    def post(self, request: Request) -> Response:
        return self._apply(request)


class CouponDetailView(_CodeView):
    """Remove a coupon code from the current cart."""

    @extend_schema(
        responses=responses(
            {200: PromotionsSerializer}, 404, 502, 503, e404="No open cart, or not applied"
        ),
        operation_id="talon_coupon_remove",
    )
    def delete(self, request: Request, code: str) -> Response:
        session = self._session(request, create=False)
        applied = find_code(session.coupon_codes or [], code)  # in any case, as Talon.One
        if applied is None:
            raise NotFound(_("This code is not applied to your cart."))
        with transaction.atomic():
            session = services.remove_coupon(session, applied)
        if not transaction.get_connection().in_atomic_block:
            session.refresh_from_db()
        return Response(PromotionsSerializer(summarize_session(session)).data)


class ReferralView(_CodeView):
    """Apply (POST) or remove (DELETE) the current cart's referral code."""

    kind = "referral"

    @extend_schema(
        request=CodeSerializer,
        responses=responses(
            {
                200: OpenApiResponse(CodeAppliedSerializer, description="Answered by Talon.One"),
                202: OpenApiResponse(CodeAppliedSerializer, description="Queued, not answered yet"),
            },
            *CODE_ERRORS,
            e404="No open cart (add something to the cart first)",
            e502=E502_CODE,
        ),
        operation_id="talon_referral_apply",
    )
    def post(self, request: Request) -> Response:
        return self._apply(request)

    @extend_schema(
        responses=responses({200: PromotionsSerializer}, 404, 502, 503, e404="No open cart"),
        operation_id="talon_referral_remove",
    )
    def delete(self, request: Request) -> Response:
        session = self._session(request, create=False)
        with transaction.atomic():
            session = services.remove_referral(session)
        if not transaction.get_connection().in_atomic_block:
            session.refresh_from_db()
        return Response(PromotionsSerializer(summarize_session(session)).data)


# --------------------------------------------------------------------------- me


@extend_schema_view(
    get=extend_schema(
        responses=responses({200: CouponReservationSerializer(many=True)}),
        operation_id="talon_my_reserved_coupons",
    )
)
class MyReservedCouponsView(TalonGenericView, generics.ListAPIView):  # type: ignore[type-arg]
    """Coupon codes reserved for the signed-in customer that Talon.One accepted (local
    mirror, no API call; a queued or refused reservation is not listed)."""

    permission_classes = [IsAuthenticated]
    serializer_class = CouponReservationSerializer
    pagination_class = None

    def get_queryset(self) -> Any:
        return services.customer_reservations(self.request.user)


class MyInventoryView(TalonAPIView):
    """The signed-in customer's Talon.One inventory (coupons, referrals, loyalty).

    This one endpoint calls Talon.One (the inventory is not mirrored); the loyalty part is
    remembered so that templates can show the balance without calling the API. The answer
    is shaped like the others (snake_case, :class:`InventorySerializer`), not Talon.One's
    camelCase JSON.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=responses({200: InventorySerializer}, 502, 503),
        operation_id="talon_my_inventory",
    )
    def get(self, request: Request) -> Response:
        inventory = services.customer_inventory(request.user)
        return Response(InventorySerializer(inventory_data(inventory)).data)


@extend_schema_view(
    get=extend_schema(
        responses=responses({200: ReferralSerializer(many=True)}),
        operation_id="talon_my_referrals",
    )
)
class MyReferralsView(TalonGenericView, generics.ListAPIView):  # type: ignore[type-arg]
    """List (GET) or create (POST) the signed-in customer's referral codes."""

    permission_classes = [IsAuthenticated]
    serializer_class = ReferralSerializer
    pagination_class = None

    def get_queryset(self) -> Any:
        return services.referrals_for_user(self.request.user)

    def talon_refused(self, exc: TalonRequestFailedError) -> APIException | None:
        # Talon.One refuses an unknown or unsuitable campaign with 400/404: the caller's input.
        if exc.status in (400, 404):
            return ValidationError(
                {"campaign_id": [_("Talon.One refused this referral campaign.")]}
            )
        return None

    @extend_schema(
        request=ReferralCreateSerializer,
        responses=responses(
            {201: ReferralSerializer},
            400,
            502,
            503,
            e502="Talon.One answered an error or no usable code",
        ),
        operation_id="talon_my_referral_create",
    )
    def post(self, request: Request) -> Response:
        serializer = ReferralCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign_id = (
            serializer.validated_data.get("campaign_id") or talon_settings.REFERRAL_CAMPAIGN_ID
        )
        if not campaign_id:
            raise ValidationError({"campaign_id": [_("This field is required.")]})
        if services.profile_for_user(request.user).erased_at is not None:
            # Refused before any call (services.create_referral would raise a "failed"
            # Talon.One request, answered 502 although Talon.One was never asked).
            raise PermissionDenied(
                _(
                    "Your customer data was erased (GDPR), so no referral code can be "
                    "created for this account."
                )
            )
        referral = services.create_referral(request.user, campaign_id)
        return Response(ReferralSerializer(referral).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        responses=responses({200: ReferralSerializer}, 404, e404="Not one of my codes"),
        operation_id="talon_my_referral",
    )
)
class MyReferralDetailView(TalonGenericView, generics.RetrieveAPIView):  # type: ignore[type-arg]
    """One of the signed-in customer's referral codes (another customer's code: 404)."""

    permission_classes = [IsAuthenticated]
    serializer_class = ReferralSerializer
    lookup_field = "code"

    def get_queryset(self) -> Any:
        return Referral.objects.filter(advocate__user=self.request.user)


# --------------------------------------------------------------------------- staff


def _resolve_profiles(data: dict[str, Any]) -> list[CustomerProfile]:
    """Profiles for the given integration ids and user ids; unknown or erased customers are
    a 400 naming the field (by either field alike: nothing is reserved or released)."""
    errors: dict[str, list[str]] = {}
    profiles, unknown, erased = _profiles_by_id(
        list(dict.fromkeys(data.get("integration_ids") or []))
    )
    _add_errors(errors, "integration_ids", unknown, erased, _("Unknown customers: %(ids)s"))
    user_ids = list(dict.fromkeys(data.get("user_ids") or []))
    if user_ids:
        by_user, unknown_users, erased_users = _profiles_by_user(user_ids)
        _add_errors(errors, "user_ids", unknown_users, erased_users, _("Unknown users: %(ids)s"))
        seen = {p.pk for p in profiles}
        for profile in by_user:
            if profile.pk not in seen:
                profiles.append(profile)
                seen.add(profile.pk)
    if errors:
        raise ValidationError(errors)
    return profiles


def _profiles_by_id(ids: list[str]) -> tuple[list[CustomerProfile], list[str], list[str]]:
    """(live profiles, unknown ids, erased ids) for integration ids. An id erased without
    ever having a profile here is known by its erasure's audit row."""
    found = list(CustomerProfile.objects.filter(integration_id__in=ids))
    live = [p for p in found if p.erased_at is None]
    erased = {p.integration_id for p in found if p.erased_at is not None}
    rest = set(ids) - {p.integration_id for p in found}
    erased |= set(
        DataDeletionRequest.objects.filter(integration_id__in=rest).values_list(
            "integration_id", flat=True
        )
    )
    return live, sorted(rest - erased), sorted(erased)


def _profiles_by_user(user_ids: list[Any]) -> tuple[list[CustomerProfile], list[str], list[str]]:
    """(live profiles, unknown user ids, erased customers' user ids) for shop user ids."""
    users = list(get_user_model().objects.filter(pk__in=user_ids))
    unknown = sorted(set(user_ids) - {u.pk for u in users})
    if unknown:  # nothing is looked up (or created) for a request that is refused anyway
        return [], [str(u) for u in unknown], []
    live, erased = [], []
    for user in users:
        profile = services.profile_for_user(user)
        if profile.erased_at is None:
            live.append(profile)
        else:
            erased.append(str(user.pk))
    return live, [], sorted(erased)


def _add_errors(
    errors: dict[str, list[str]], field: str, unknown: list[str], erased: list[str], text: str
) -> None:
    messages = []
    if unknown:
        messages.append(text % {"ids": ", ".join(unknown[:20])})
    if erased:
        messages.append(
            _("Erased customers (GDPR): nothing can be reserved or released for them: %(ids)s")
            % {"ids": ", ".join(erased[:20])}
        )
    if messages:
        errors[field] = messages


class HolderPagination(LimitOffsetPagination):
    """Always paginated (a popular code may be reserved for many thousands of customers)."""

    default_limit = 100
    max_limit = 1000


ReservationResultSerializer = inline_serializer(
    "ReservationResult",
    fields={
        "code": serializers.CharField(),
        "count": serializers.IntegerField(),
        "integration_ids": serializers.ListField(child=serializers.CharField()),
    },
)


def _reservation_request(request: Request) -> tuple[str, list[CustomerProfile]]:
    """The code and customers of a staff reserve/release request (invalid ones are a 400)."""
    serializer = StaffReservationSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    profiles = _resolve_profiles(serializer.validated_data)
    return serializer.validated_data["code"], profiles


def _reservation_result(
    code: str, count: int, profiles: list[CustomerProfile], *, status_code: int = 200
) -> Response:
    """The ``ReservationResult`` body shared by reserve and release."""
    return Response(
        {"code": code, "count": count, "integration_ids": [p.integration_id for p in profiles]},
        status=status_code,
    )


class StaffReserveView(TalonAPIView):
    """Reserve a coupon code for customers (``add_couponreservation``, as the admin action)."""

    permission_classes = [TalonStaffPermission]
    required_perm = "django_talon.add_couponreservation"

    @extend_schema(
        request=StaffReservationSerializer,
        responses=responses(
            {201: ReservationResultSerializer},
            400,
            502,
            503,
            e400="Invalid input, unknown customers, or a code Talon.One refuses "
            "(unknown, expired, used up): nothing is reserved",
            e503="Talon.One could not check the code: nothing is reserved",
        ),
        operation_id="talon_staff_reserve",
    )
    def post(self, request: Request) -> Response:
        code, profiles = _reservation_request(request)
        try:
            rows = services.reserve_coupon_checked(code, profiles)
        except services.ReservationRefused as exc:
            raise ValidationError({"code": [exc.message]}) from exc
        code = rows[0].coupon_code if rows else code  # as Talon.One spells it
        return _reservation_result(code, len(rows), profiles, status_code=status.HTTP_201_CREATED)


class StaffReleaseView(TalonAPIView):
    """Release a coupon code for customers (``delete_couponreservation``, as the admin)."""

    permission_classes = [TalonStaffPermission]
    required_perm = "django_talon.delete_couponreservation"

    @extend_schema(
        request=StaffReservationSerializer,
        responses=responses({200: ReservationResultSerializer}, 400),
        operation_id="talon_staff_release",
    )
    def post(self, request: Request) -> Response:
        code, profiles = _reservation_request(request)
        count = services.release_coupon(code, profiles)
        return _reservation_result(code, count, profiles)


@extend_schema_view(
    get=extend_schema(
        responses=responses({200: ReservedCustomerSerializer(many=True)}),
        operation_id="talon_staff_reservation_holders",
    )
)
class StaffReservationHoldersView(TalonGenericView, generics.ListAPIView):  # type: ignore[type-arg]
    """Who holds a coupon code (local mirror; ``view_`` or ``change_couponreservation``)."""

    permission_classes = [TalonStaffPermission]
    required_perm = (
        "django_talon.view_couponreservation",
        "django_talon.change_couponreservation",
    )
    serializer_class = ReservedCustomerSerializer
    pagination_class = HolderPagination

    def get_queryset(self) -> Any:
        return (
            CouponReservation.objects.filter(coupon_code__iexact=self.kwargs["code"])
            .select_related("profile")
            .order_by("pk")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = [
            {
                "integration_id": r.profile.integration_id,
                "user_id": r.profile.user_id,
                "reserved_at": r.created_at,
                "synced": r.synced_at is not None,
            }
            for r in (page if page is not None else self.get_queryset())
        ]
        data = ReservedCustomerSerializer(rows, many=True).data
        if page is not None:
            return self.get_paginated_response(data)
        return Response(data)
