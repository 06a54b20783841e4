"""django_talon must import and render without the optional DRF extra installed, and its
API says so: an ``ImproperlyConfigured`` naming the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.resources import REPO_ROOT

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, sys

    class NoDRF(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("rest_framework", "drf_spectacular"):
                raise ImportError(f"{name} is not installed (simulated)")
            return None

    sys.meta_path.insert(0, NoDRF())

    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=[
            "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
            "django.contrib.sessions", "django.contrib.messages", "django_talon",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                    "APP_DIRS": True}],
        ROOT_URLCONF="django_talon.urls",
        SECRET_KEY="x",
        USE_TZ=True,
    )
    django.setup()
    import django_talon.admin, django_talon.promotions, django_talon.urls, django_talon.views
    from django.template import Context, Template
    html = Template(
        "{% load talon %}{% talon_cart_summary p %}{% talon_coupon_form p %}"
    ).render(Context({"p": django_talon.promotions.summarize(
        [{"effectType": "setDiscount", "props": {"name": "X", "value": 1}}],
        [{"sku": "A", "quantity": 1, "price": 5}],
    )}))
    assert "4.00 EUR" in html, html
    from django.core.exceptions import ImproperlyConfigured
    try:
        import django_talon.api.urls  # noqa: F401
    except ImproperlyConfigured as refused:  # not a bare "No module named 'rest_framework'"
        assert "django_talon.api needs djangorestframework" in str(refused), refused
        assert "pip install 'django-talon[drf]'" in str(refused), refused
    else:
        raise SystemExit("the API should need DRF")
    assert "rest_framework" not in sys.modules
    print("ok")
    """
)


def test_django_talon_works_without_drf() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_api_without_drf_names_the_extra() -> None:
    """drf-spectacular installed, DRF not (``None`` in ``sys.modules``: what ``import``
    reports as ``ModuleNotFoundError``), in a new process so no test sees the hole."""
    script = textwrap.dedent(
        """
        import sys

        sys.modules["rest_framework"] = None
        from django.core.exceptions import ImproperlyConfigured
        try:
            import django_talon.api.urls  # noqa: F401
        except ImproperlyConfigured as refused:
            print(refused)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert message.startswith("django_talon.api needs djangorestframework and drf-spectacular")
    assert message.endswith(": pip install 'django-talon[drf]'")
    assert "rest_framework" in message  # which one is missing
