"""REST endpoints for the signed-in customer's loyalty points and achievements, and for
spending points on the current cart.

The reads are the customer's own (no id in the URL: the user is the request's), come from
Talon.One through :mod:`django_talon.services.loyalty` and are remembered per customer, so a
client polling them costs one call per ``TALON["LOYALTY_CACHE_SECONDS"]`` and ledger change.
Points are serialised as decimal strings, like money (``"106"``, ``"12.5"``). The program
is ``TALON["LOYALTY_PROGRAM_ID"]``; without one the loyalty endpoints answer 404.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from django_talon import services
from django_talon.api.schema import extend_schema, responses
from django_talon.api.serializers import MomentField, PromotionsSerializer
from django_talon.api.views import TalonAPIView
from django_talon.conf import talon_settings
from django_talon.services.display import summarize_session
from django_talon.views import own_transaction

__all__ = [
    "AchievementSerializer",
    "PointsBalanceSerializer",
    "LoyaltyTransactionSerializer",
    "MyAchievementsView",
    "MyLoyaltyCardView",
    "MyLoyaltyCardsView",
    "MyLoyaltyTransactionsView",
    "MyLoyaltyView",
    "PointsView",
]


def _points(value: Any) -> str:
    return f"{value.normalize():f}" if value is not None else "0"


@extend_schema_field(OpenApiTypes.STR)
class PointsField(serializers.Field):  # type: ignore[type-arg]
    """A ``Decimal`` number of points as a string (``"106"``, ``"12.5"``)."""

    def to_representation(self, value: Any) -> str:
        return _points(value)


class ExpiringPointsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    amount = PointsField(read_only=True)
    expiry_date = MomentField(read_only=True)


class PointsBalanceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    program_id = serializers.IntegerField(read_only=True)
    found = serializers.BooleanField(
        read_only=True, help_text="False: Talon.One does not know the customer (yet): 0 points."
    )
    active = PointsField(read_only=True, help_text="Points the customer can spend now.")
    pending = PointsField(read_only=True, help_text="Earned, not active yet.")
    spent = PointsField(read_only=True)
    expired = PointsField(read_only=True)
    negative = PointsField(read_only=True)
    expiring_points = PointsField(
        read_only=True, help_text="Active points expiring within TALON['LOYALTY_EXPIRING_DAYS']."
    )
    expiring = ExpiringPointsSerializer(many=True, read_only=True)


class LoyaltyTransactionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    transaction_uuid = serializers.CharField(read_only=True)
    type = serializers.CharField(read_only=True, help_text="addition or subtraction")
    amount = PointsField(read_only=True, help_text="Always positive; type says the direction.")
    name = serializers.CharField(read_only=True)
    created = serializers.CharField(read_only=True, allow_null=True)
    start_date = serializers.CharField(read_only=True, allow_null=True)
    expiry_date = serializers.CharField(read_only=True, allow_null=True)
    subledger_id = serializers.CharField(read_only=True)
    customer_session_id = serializers.CharField(read_only=True, allow_null=True)


class LoyaltyHistorySerializer(serializers.Serializer):  # type: ignore[type-arg]
    program_id = serializers.IntegerField(read_only=True)
    has_more = serializers.BooleanField(read_only=True)
    results = LoyaltyTransactionSerializer(source="entries", many=True, read_only=True)


class AchievementProgressSerializer(serializers.Serializer):  # type: ignore[type-arg]
    status = serializers.CharField(read_only=True)
    progress = PointsField(read_only=True)
    start_date = serializers.CharField(read_only=True, allow_null=True)
    completion_date = serializers.CharField(read_only=True, allow_null=True)
    end_date = serializers.CharField(read_only=True, allow_null=True)


class AchievementSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField(read_only=True, allow_null=True)
    name = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    target = PointsField(read_only=True, allow_null=True)
    campaign_id = serializers.IntegerField(read_only=True, allow_null=True)
    current_progress = AchievementProgressSerializer(read_only=True, allow_null=True)


class CardLedgerSerializer(serializers.Serializer):  # type: ignore[type-arg]
    current_balance = PointsField(read_only=True, help_text="Points on the card now.")
    pending_balance = PointsField(read_only=True)
    negative_balance = PointsField(read_only=True)


class LoyaltyCardSerializer(serializers.Serializer):  # type: ignore[type-arg]
    identifier = serializers.CharField(read_only=True)
    program_id = serializers.IntegerField(read_only=True, allow_null=True)
    status = serializers.CharField(read_only=True, help_text="active or inactive")
    ledger = CardLedgerSerializer(read_only=True, allow_null=True)


class LoyaltyCardDetailSerializer(serializers.Serializer):  # type: ignore[type-arg]
    identifier = serializers.CharField(read_only=True)
    program_id = serializers.IntegerField(read_only=True)
    status = serializers.CharField(source="card.status", read_only=True)
    balance = PointsBalanceSerializer(read_only=True)
    has_more = serializers.BooleanField(read_only=True)
    results = LoyaltyTransactionSerializer(source="history", many=True, read_only=True)


class RedeemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    points = serializers.IntegerField(
        min_value=0, help_text="Whole points to spend on the cart (0: none)."
    )


PointsAnswer = inline_serializer(
    "PointsToRedeem",
    fields={
        "points_to_redeem": serializers.IntegerField(allow_null=True),
        "promotions": PromotionsSerializer(),
    },
)


def _program() -> int:
    program_id = talon_settings.LOYALTY_PROGRAM_ID
    if program_id is None:
        raise NotFound(_("There is no loyalty program."))
    return int(program_id)


class MyLoyaltyView(TalonAPIView):
    """The signed-in customer's points: active, pending, spent, expired, expiring soon."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=responses(
            {200: PointsBalanceSerializer}, 404, 502, 503, e404="No loyalty program configured"
        ),
        operation_id="talon_my_loyalty",
    )
    def get(self, request: Request) -> Response:
        balance = services.loyalty_balance(request.user, program_id=_program())
        return Response(PointsBalanceSerializer(balance).data)


class MyLoyaltyTransactionsView(TalonAPIView):
    """The signed-in customer's points history, newest first (``limit``/``offset``)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", int, description="1..1000, default 50"),
            OpenApiParameter("offset", int, description="0..2147483647, default 0"),
        ],
        responses=responses(
            {200: LoyaltyHistorySerializer},
            400,
            404,
            502,
            503,
            e404="No loyalty program configured",
        ),
        operation_id="talon_my_loyalty_transactions",
    )
    def get(self, request: Request) -> Response:
        limit = _number(request, "limit", 50, 1, 1000)
        offset = _number(request, "offset", 0, 0, MAX_OFFSET)
        history = services.loyalty_history(
            request.user, program_id=_program(), page_size=limit, skip=offset
        )
        return Response(LoyaltyHistorySerializer(history).data)


#: the largest ``offset`` passed on as Talon.One's ``skip`` (an int64 there, and no history is
#: that long): a larger one is the caller's 400, not Talon.One's refusal as a 502
MAX_OFFSET = 2**31 - 1


def _number(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: [_("A whole number is required.")]}) from None
    if value < low or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValidationError({name: [_("Must be %(bounds)s.") % {"bounds": bounds}]})
    return value


class MyAchievementsView(TalonAPIView):
    """The signed-in customer's achievements, each with their current progress."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=responses({200: AchievementSerializer(many=True)}, 502, 503),
        operation_id="talon_my_achievements",
    )
    def get(self, request: Request) -> Response:
        achievements = services.customer_achievements(request.user)
        return Response(AchievementSerializer(achievements, many=True).data)


class MyLoyaltyCardsView(TalonAPIView):
    """The loyalty cards linked to the signed-in customer (card-based programs)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=responses({200: LoyaltyCardSerializer(many=True)}, 502, 503),
        operation_id="talon_my_loyalty_cards",
    )
    def get(self, request: Request) -> Response:
        cards = services.loyalty_cards(request.user)
        return Response(LoyaltyCardSerializer(cards, many=True).data)


class MyLoyaltyCardView(TalonAPIView):
    """One of the signed-in customer's cards: its points and its history, newest first
    (``limit``/``offset``). A card not linked to the customer is not found."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", int, description="1..1000, default 50"),
            OpenApiParameter("offset", int, description="0..2147483647, default 0"),
        ],
        responses=responses(
            {200: LoyaltyCardDetailSerializer},
            400,
            404,
            502,
            503,
            e404="No such card linked to the customer",
        ),
        operation_id="talon_my_loyalty_card",
    )
    def get(self, request: Request, card_id: str) -> Response:
        limit = _number(request, "limit", 50, 1, 1000)
        offset = _number(request, "offset", 0, 0, MAX_OFFSET)
        card = services.loyalty_card(request.user, card_id, page_size=limit, skip=offset)
        if card is None:
            raise NotFound(_("There is no such loyalty card."))
        return Response(LoyaltyCardDetailSerializer(card).data)


class PointsView(TalonAPIView):
    """Spend points on the current cart (POST) or none (DELETE). The answer is the cart's
    promotions with Talon.One's discount for them (the write is committed and delivered
    before the answer, also under ``ATOMIC_REQUESTS``)."""

    permission_classes = [IsAuthenticated]

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        return own_transaction(super().as_view(**initkwargs))

    def _session(self, request: Request) -> Any:
        session = services.session_for_request(request._request)
        if session is None or not session.is_open:
            raise NotFound(_("There is no open cart to spend points on."))
        return session

    def _answer(self, session: Any) -> Response:
        if not transaction.get_connection().in_atomic_block:
            session.refresh_from_db()  # the answer the immediate delivery stored
        return Response(
            {
                "points_to_redeem": session.points_to_redeem,
                "promotions": PromotionsSerializer(summarize_session(session)).data,
            }
        )

    @extend_schema(
        request=RedeemSerializer,
        responses=responses(
            {200: PointsAnswer},
            400,
            404,
            502,
            503,
            e400="Not a whole number >= 0, or more than the active balance",
            e404="No open cart, or no loyalty program configured",
        ),
        operation_id="talon_points_redeem",
    )
    def post(self, request: Request) -> Response:
        serializer = RedeemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        program_id = _program()
        session = self._session(request)
        try:
            with transaction.atomic():
                session = services.redeem_points(
                    session, serializer.validated_data["points"], program_id=program_id
                )
        except services.RedemptionError as exc:
            raise ValidationError({"points": [str(exc)]}) from exc
        return self._answer(session)

    @extend_schema(
        responses=responses({200: PointsAnswer}, 404, 502, 503, e404="No open cart"),
        operation_id="talon_points_clear",
    )
    def delete(self, request: Request) -> Response:
        session = self._session(request)
        with transaction.atomic():
            session = services.clear_redemption(session)
        return self._answer(session)
