"""REST API URLs: ``path("api/talon/", include("django_talon.api.urls"))``.

URL names live in the ``django_talon_api`` namespace (e.g. ``django_talon_api:promotions``).
"""

from django.urls import path, register_converter

from django_talon.api import loyalty, prices, views
from django_talon.api.schema import TalonSchemaView

app_name = "django_talon_api"


class CodeConverter:
    """A coupon or referral code in a URL: any characters, ``/`` included (``SUMMER/24``:
    Talon.One allows it, and a code must be removable as it was applied; ``<str:>`` stopped
    at the slash). Unlike ``<path:>`` it takes line breaks too, so a code the view refuses
    gets the view's JSON 404, not Django's HTML one."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CodeConverter, "talon_code")

urlpatterns = [
    path("promotions/", views.PromotionsView.as_view(), name="promotions"),
    path("coupons/", views.CouponsView.as_view(), name="coupons"),
    path("coupons/<talon_code:code>/", views.CouponDetailView.as_view(), name="coupon-detail"),
    path("referral/", views.ReferralView.as_view(), name="referral"),
    path("me/reserved-coupons/", views.MyReservedCouponsView.as_view(), name="my-reserved-coupons"),
    path("me/inventory/", views.MyInventoryView.as_view(), name="my-inventory"),
    path("me/loyalty/", loyalty.MyLoyaltyView.as_view(), name="my-loyalty"),
    path(
        "me/loyalty/transactions/",
        loyalty.MyLoyaltyTransactionsView.as_view(),
        name="my-loyalty-transactions",
    ),
    path("me/loyalty/cards/", loyalty.MyLoyaltyCardsView.as_view(), name="my-loyalty-cards"),
    path(
        "me/loyalty/cards/<str:card_id>/",
        loyalty.MyLoyaltyCardView.as_view(),
        name="my-loyalty-card",
    ),
    path("me/achievements/", loyalty.MyAchievementsView.as_view(), name="my-achievements"),
    path("points/", loyalty.PointsView.as_view(), name="points"),
    path("me/referrals/", views.MyReferralsView.as_view(), name="my-referrals"),
    path(
        "me/referrals/<talon_code:code>/",
        views.MyReferralDetailView.as_view(),
        name="my-referral-detail",
    ),
    path("staff/reservations/", views.StaffReserveView.as_view(), name="staff-reserve"),
    path("staff/reservations/release/", views.StaffReleaseView.as_view(), name="staff-release"),
    path(
        "staff/reservations/<talon_code:code>/",
        views.StaffReservationHoldersView.as_view(),
        name="staff-reservation-holders",
    ),
    path("prices/<str:sku>/prior/", prices.PriorPriceView.as_view(), name="prior-price"),
    path("schema/", TalonSchemaView.as_view(), name="schema"),
]
