"""The test project's URLs plus the optional API browser page (tests/surfaces/test_api_browser)."""

from django.urls import include, path

from tests.urls import urlpatterns as base

urlpatterns = [*base, path("api/talon/browser/", include("django_talon.api.browser"))]
