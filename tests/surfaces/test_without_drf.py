"""django_talon must import and render without the optional DRF extra installed."""

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
    try:
        import django_talon.api.urls  # noqa: F401
    except ImportError:
        pass
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
