"""``GET prices/<sku>/prior/``: a product's best prior price for product pages built in
JavaScript (the template tag's data).

Public (a price is no secret) and never an error because of Talon.One: when it has no
price for the SKU, or cannot be asked, ``price`` is null (the page shows none), exactly
as the template tag renders nothing. Only the shop's own SKUs are looked up (the
adapter's ``product_for_sku``; others answer 404), so a caller cannot make the shop send
Talon.One one request per invented SKU. Prices are cached per SKU
(:mod:`django_talon.services.prices`). ``?application=usd`` asks that Application of
``TALON["APPLICATIONS"]`` (its currency; 400 for a name it does not configure), else the
default one. ``price`` is a string in the currency's minor unit (``"12.345"`` KWD,
``"1234"`` JPY), like every amount of the REST API.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from django_talon.adapters import get_adapter
from django_talon.api.schema import extend_schema, responses
from django_talon.api.views import TalonAPIView
from django_talon.conf import talon_settings
from django_talon.promotions.money import quantize_money
from django_talon.services.prices import best_prior_price


class PriorPriceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The answer: ``price`` null when Talon.One has no price or cannot be asked."""

    sku = serializers.CharField()
    #: in the currency's minor unit (a DecimalField with 2 places showed KWD rounded to
    #: hundredths and JPY with two zero decimals)
    price = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    timeframe_days = serializers.IntegerField()
    observed_at = serializers.CharField(allow_null=True)


class PriorPriceView(TalonAPIView):
    """The lowest price of a product in the last ``PRIOR_PRICE_TIMEFRAME_DAYS`` days."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses=responses(
            {200: PriorPriceSerializer}, 400, 404, e404="The shop has no such product"
        ),
        parameters=[
            OpenApiParameter(
                "application",
                str,
                description="a name in TALON['APPLICATIONS'] (default: the default Application)",
            )
        ],
        operation_id="talon_prior_price",
    )
    def get(self, request: Request, sku: str) -> Response:
        application = request.query_params.get("application") or None
        if application is not None and not talon_settings.config.is_configured(application):
            raise ValidationError({"application": [_("No such Talon.One Application.")]})
        adapter = get_adapter()
        product = adapter.product_for_sku(sku)
        if product is None:
            raise NotFound()
        prior = best_prior_price(product, application=application)
        # the price's own currency (the Application asked), not the top-level CURRENCY
        currency = (
            prior.currency
            if prior
            else talon_settings.config.currency_of(
                application or talon_settings.default_application
            )
        )
        data = {
            "sku": adapter.product_sku(product),
            "price": str(quantize_money(prior.price, currency)) if prior else None,
            "currency": currency,
            "timeframe_days": talon_settings.PRIOR_PRICE_TIMEFRAME_DAYS,
            "observed_at": prior.observed_at if prior else None,
        }
        return Response(PriorPriceSerializer(data).data)
