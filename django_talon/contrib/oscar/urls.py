"""URLs of the django-oscar integration; include them BEFORE Oscar's own::

    urlpatterns = [
        path("", include("django_talon.contrib.oscar.urls")),
        path("", include(apps.get_app_config("oscar").urls[0])),
    ]

``basket/vouchers/add/`` is Oscar's own path for its voucher form: served here first, so the
code goes to Talon.One. The paths assume Oscar's default ``basket/`` and ``dashboard/``
prefixes; a shop that moved them includes :data:`basket_patterns` and
:data:`dashboard_patterns` under its own prefixes instead.
"""

from __future__ import annotations

from django.urls import include, path

from django_talon.contrib.oscar import dashboard, views

app_name = "talon_oscar"

basket_patterns = [
    path("vouchers/add/", views.VoucherAddView.as_view(), name="voucher-add"),
    path("talon/codes/remove/", views.VoucherRemoveView.as_view(), name="voucher-remove"),
]

dashboard_patterns = [
    path("", dashboard.ReservationView.as_view(), name="dashboard-reservations"),
    path(
        "<str:user_pk>/release/",  # any user key type: integer, UUID, text
        dashboard.ReleaseView.as_view(),
        name="dashboard-reservation-release",
    ),
]

urlpatterns = [
    path("basket/", include(basket_patterns)),
    path("dashboard/talon/reservations/", include(dashboard_patterns)),
]
