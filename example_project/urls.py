"""URLs of the example shop; django-talon's forms live under /talon/, its REST API under /api/talon/."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("example_project.catalog.urls")),
    path("cart/", include("example_project.cart.urls")),
    path("orders/", include("example_project.orders.urls")),
    path("accounts/", include("example_project.accounts.urls")),
    path("admin/", admin.site.urls),
    # The demo's staff-only Talon.One outage switch (drives the emulator's fault control).
    path("demo/", include("example_project.demo.urls")),
    # django-talon: the coupon/referral form views and the REST API.
    path("talon/", include("django_talon.urls")),
    path("api/talon/", include("django_talon.api.urls")),
]
