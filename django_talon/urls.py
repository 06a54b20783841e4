"""URLs of the coupon/referral form views: ``path("talon/", include("django_talon.urls"))``.

The REST API lives separately in ``django_talon.api.urls`` (needs the ``drf`` extra).
"""

from django.urls import path

from django_talon import loyalty_views, views

app_name = "django_talon"

urlpatterns = [
    path("coupon/apply/", views.apply_coupon, name="coupon-apply"),
    path("coupon/remove/", views.remove_coupon, name="coupon-remove"),
    path("referral/apply/", views.apply_referral, name="referral-apply"),
    path("points/redeem/", loyalty_views.redeem, name="points-redeem"),
]
