"""docs/installation.md, followed in a new project with the built wheel, reaches the first
discount: ``startproject``, the page's settings, adapter, URLs, template tags, ``migrate``,
``check``, ``talon_check`` and ``talon_emulator``, then a cart with ``WELCOME10`` that the
emulator answers with its discount, rendered by the page's tags.

How the new project gets its packages, and why:

* django-talon comes **only from the wheel** built from this checkout (hatchling, as
  tests/test_package.py builds it), installed by pip into a new venv made *without*
  ``--system-site-packages``: the editable install of the checkout is not visible there, so
  a file missing from the wheel (a template, a migration, the emulator's campaigns) fails.
* The third-party dependencies (Django, requests, and the ``drf`` extra's packages the page
  lists) are the ones this venv already has, made visible to the new venv by a ``.pth``
  file naming a directory of symlinks to exactly their dependency closure (computed from
  their metadata). The test stays offline and fast (no download, no build of
  dependencies), yet pip installs the wheel **with** dependency resolution
  (``--no-index``): a ``Requires-Dist`` the closure does not satisfy fails the install.

The shop's own ``cart``/``orders`` apps are the minimum the page's adapter needs
(:data:`SHOP_FILES`); everything else is the page's text.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.docs.snippets import snippet
from tests.resources import REPO_ROOT

pytestmark = pytest.mark.slow

PAGE = "installation.md"
EMULATOR = "python manage.py talon_emulator     # 127.0.0.1:9100 (EMULATOR_HOST/PORT), your API_KEY"
TALON_CHECK = (
    "python manage.py talon_check  # calls Talon.One (or the emulator) with your key and reports"
    " (also: sync problems)"
)
#: Distributions the page's project imports (django-talon[drf]), besides django-talon.
ROOTS = ["Django", "requests", "djangorestframework", "drf-spectacular"]

#: The shop the page assumes: carts whose lines point at a product, orders with a status.
SHOP_FILES = {
    "cart/__init__.py": "",
    "cart/models.py": """
        from django.db import models


        class Category(models.Model):
            slug = models.SlugField(unique=True)


        class Product(models.Model):
            sku = models.CharField(max_length=40, unique=True)
            name = models.CharField(max_length=100)
            price = models.DecimalField(max_digits=8, decimal_places=2)
            category = models.ForeignKey(Category, on_delete=models.PROTECT)


        class Cart(models.Model):
            status = models.CharField(max_length=10, default="open")


        class CartItem(models.Model):
            cart = models.ForeignKey(Cart, related_name="items", on_delete=models.CASCADE)
            product = models.ForeignKey(Product, on_delete=models.PROTECT)
            quantity = models.PositiveIntegerField(default=1)
        """,
    "cart/services.py": """
        from cart.models import Cart


        def get_cart(request):
            return Cart.objects.filter(pk=request.session.get("cart"), status="open").first()
        """,
    "cart/views.py": """
        from django.shortcuts import redirect, render

        from cart.models import Cart, CartItem, Product
        from cart.services import get_cart


        def add(request, sku):
            cart = get_cart(request) or Cart.objects.create()
            request.session["cart"] = cart.pk
            CartItem.objects.create(cart=cart, product=Product.objects.get(sku=sku))
            return redirect("/cart/")


        def detail(request):
            return render(request, "cart.html")
        """,
    "orders/__init__.py": "",
    "orders/models.py": """
        from django.db import models


        class Order(models.Model):
            status = models.CharField(max_length=10, default="placed")
        """,
    "shop/__init__.py": "",
}

FIRST_DISCOUNT = """
    from decimal import Decimal

    from django.test import Client

    from cart.models import Category, Product

    coffee = Category.objects.create(slug="coffee")
    Product.objects.create(sku="BEANS", name="Beans", price=Decimal("20.00"), category=coffee)
    shopper = Client(HTTP_HOST="localhost")
    shopper.get("/cart/add/BEANS/")
    answer = shopper.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    assert answer.status_code == 302, answer.content
    print(shopper.get("/cart/").content.decode())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def closure(roots: list[str]) -> set[str]:
    """The distributions ``roots`` need here, recursively (markers evaluated, no extras)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        dist = metadata.distribution(name)
        canonical = dist.metadata["Name"]
        if canonical in seen:
            continue
        seen.add(canonical)
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def link_dependencies(target: Path) -> None:
    """Symlinks to the closure's top-level modules and metadata directories."""
    target.mkdir()
    for name in closure(ROOTS):
        dist = metadata.distribution(name)
        base = Path(str(dist.locate_file("")))
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in sorted(tops - {"__pycache__"}):
            if not (target / top).exists() and (base / top).exists():
                (target / top).symlink_to(base / top)


def run(venv: Path, *args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(venv / "bin" / "python"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A new venv with django-talon from the built wheel and the linked dependencies."""
    from hatchling.builders.wheel import WheelBuilder

    [wheel] = WheelBuilder(str(REPO_ROOT)).build(
        directory=str(tmp_path / "dist"), versions=["standard"]
    )
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    link_dependencies(tmp_path / "deps")
    (site / "third_party_deps.pth").write_text(f"{tmp_path / 'deps'}\n")
    pip = [sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python")]
    subprocess.run(
        [*pip, "install", "--quiet", "--no-index", f"{wheel}[drf]"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return env_dir


@pytest.fixture
def emulator_port() -> Iterator[int]:
    yield free_port()


def write_project(project: Path, port: int) -> None:
    """startproject's files plus what the page says to add, in the page's words."""
    for name, code in SHOP_FILES.items():
        (project / name).parent.mkdir(exist_ok=True)
        (project / name).write_text(textwrap.dedent(code).lstrip())
    (project / "shop" / "talon.py").write_text(snippet(PAGE, "shop/talon.py").code)

    # Step 2: the page's lists merged into startproject's (its "# ... your apps").
    documented = snippet(PAGE, "settings.py").code
    documented = documented.replace("INSTALLED_APPS = [", "DOCUMENTED_APPS = [", 1)
    documented = documented.replace("MIDDLEWARE = [", "DOCUMENTED_MIDDLEWARE = [", 1)
    settings = project / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text()
        + "\n# docs/installation.md, step 2\n"
        + documented
        + "\nINSTALLED_APPS += [a for a in DOCUMENTED_APPS if a not in INSTALLED_APPS]"
        + "\nINSTALLED_APPS += ['cart', 'orders']  # the shop's own apps"
        + "\nMIDDLEWARE += DOCUMENTED_MIDDLEWARE"
        + f"\nTALON['BASE_URL'] = 'http://127.0.0.1:{port}'  # step 6: the emulator\n"
        + "TEMPLATES[0]['DIRS'] = [BASE_DIR / 'templates']\n"
    )
    # Step 5: the page's URLs after startproject's, and its tags in the cart page.
    urls = project / "mysite" / "urls.py"
    documented_urls = snippet(PAGE, "from django.urls import include, path").code.replace(
        "urlpatterns = [", "urlpatterns += [", 1
    )
    shop_urls = (
        "from cart import views as cart_views\n"
        "urlpatterns += [path('cart/add/<sku>/', cart_views.add),"
        " path('cart/', cart_views.detail)]\n"
    )
    urls.write_text(urls.read_text() + "\n" + documented_urls + shop_urls)
    (project / "templates").mkdir()
    (project / "templates" / "cart.html").write_text(snippet(PAGE, "{% load talon %}").code)


def test_a_new_project_following_the_page_reaches_the_first_discount(
    venv: Path, tmp_path: Path, emulator_port: int
) -> None:
    install = snippet(
        PAGE,
        "pip install django-talon            # the client, the emulator and the Django app",
        marked=True,
    )
    assert 'pip install "django-talon[drf]"' in install.code  # what the venv fixture installs
    python = str(venv / "bin" / "python")
    probe = "import django_talon, sys; print(django_talon.__file__)"
    installed = subprocess.run(  # outside the checkout: "-c" puts the cwd on sys.path
        [python, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert str(REPO_ROOT / "django_talon") not in installed.stdout  # the wheel, not the checkout
    assert str(venv) in installed.stdout

    project = tmp_path / "project"
    project.mkdir()
    run(venv, "-m", "django", "startproject", "mysite", ".", cwd=project)
    write_project(project, emulator_port)
    env = {**os.environ, "TALON_API_KEY": "fresh-project-key", "PYTHONPATH": ""}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    run(venv, "manage.py", "makemigrations", "cart", "orders", cwd=project, env=env)
    for line in snippet(PAGE, "python manage.py migrate").code.splitlines():  # step 4
        run(venv, *line.split("#")[0].split()[1:], cwd=project, env=env)

    emulator_line = snippet(PAGE, EMULATOR, marked=True).code.split("#")[0]
    log = (tmp_path / "emulator.log").open("wb")
    emulator = subprocess.Popen(
        [python, *emulator_line.split()[1:]], cwd=project, env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 30
        while socket.socket().connect_ex(("127.0.0.1", emulator_port)) != 0:
            assert emulator.poll() is None, (tmp_path / "emulator.log").read_text()
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.1)
        for line in snippet(PAGE, TALON_CHECK).code.splitlines():  # step 6, the emulator up
            run(venv, *line.split("#")[0].split()[1:], cwd=project, env=env)

        page = run(
            venv, "manage.py", "shell", "-c", textwrap.dedent(FIRST_DISCOUNT), cwd=project, env=env
        )
        state_url = f"http://127.0.0.1:{emulator_port}/_emulator/state"
        with urllib.request.urlopen(state_url, timeout=10) as response:
            (session,) = json.load(response)["sessions"].values()
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
        log.close()
    assert session["couponCodes"] == ["WELCOME10"]
    assert [item["sku"] for item in session["cartItems"]] == ["BEANS"]
    welcome = re.search(
        r'talon-discount-name">Welcome 10%</span> <span class="talon-discount-amount">-(\S+) EUR',
        page,
    )
    assert welcome, page
    assert welcome[1] == "2.00"  # 10% of 20.00 (the coffee 1.00 off is an item discount)
