"""The Oscar test shop's URLs: django-talon's first (the voucher form), then Oscar's."""

from django.apps import apps
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),  # Oscar's layout links set_language
    path("", include("django_talon.contrib.oscar.urls")),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
