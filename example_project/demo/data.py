"""The demo catalog and accounts, loaded by ``manage.py demo`` and by the tests.

The SKUs and categories are the ones the emulator's demo campaigns are written against
(``coffee`` items get 1.00 off each; a subtotal of 100.00 earns a free tote bag, which is
also sold; standard delivery is free from 50.00).
Loading is idempotent: running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from example_project.catalog.models import Category, Product

CATEGORIES = {"coffee": "Coffee", "equipment": "Equipment", "accessories": "Accessories"}

PRODUCTS = [
    # sku, name, category, price, description
    ("ESPRESSO-250", "Espresso blend 250 g", "coffee", "8.50", "Dark, chocolatey, for espresso."),
    ("FILTER-1KG", "Filter roast 1 kg", "coffee", "24.00", "Bright and fruity, for pour-over."),
    ("DECAF-250", "Swiss water decaf 250 g", "coffee", "9.00", "All the taste, none of the buzz."),
    ("GRINDER-X", "Burr grinder X", "equipment", "89.00", "Conical burrs, 40 settings."),
    ("KETTLE-GOOSENECK", "Gooseneck kettle", "equipment", "45.00", "For a steady pour."),
    # Sold, and the demo's free gift over 100.00 (put into the cart at price 0).
    ("FREE-TOTE", "Canvas tote bag", "accessories", "12.00", "Carries 2 kg of beans."),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str


ACCOUNTS = [
    DemoAccount("staff", "staff-demo-pass", "staff (admin site)"),
    DemoAccount("alice", "alice-demo-pass", "customer"),
    DemoAccount("bob", "bob-demo-pass", "customer"),
]


@transaction.atomic
def load_demo_data() -> list[DemoAccount]:
    """Create the categories, products and accounts that do not exist yet."""
    categories = {
        slug: Category.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in CATEGORIES.items()
    }
    for sku, name, category, price, description in PRODUCTS:
        Product.objects.get_or_create(
            sku=sku,
            defaults={
                "name": name,
                "category": categories[category],
                "price": Decimal(price),
                "description": description,
            },
        )
    user_model = get_user_model()
    for account in ACCOUNTS:
        if user_model.objects.filter(username=account.username).exists():
            continue
        staff = account.role.startswith("staff")
        user_model.objects.create_user(
            username=account.username,
            email=f"{account.username}@example.com",
            password=account.password,
            is_staff=staff,
            is_superuser=staff,
        )
    return ACCOUNTS


def replay_to_talon() -> tuple[int, int]:
    """Send what the shop's database knows to a Talon.One that forgot it (a restarted
    emulator with ``--keep-db``): every customer profile and every coupon reservation.

    Profiles go through ``services.sync_profile(user, force=True)`` (forced: the outbox
    remembers they were delivered and would skip them otherwise; for thousands of users
    ``manage.py talon_sync_profiles --force`` sends them in batches instead), reservations
    through ``services.reserve_coupon``. Both are upserts, so replaying to a Talon.One that
    already knows them changes nothing. Returns (profiles, codes).
    """
    from django_talon import services
    from django_talon.models import CouponReservation

    users = 0
    for user in get_user_model().objects.order_by("pk"):
        services.sync_profile(user, force=True)
        users += 1
    holders: dict[str, list[Any]] = {}
    for reservation in CouponReservation.objects.select_related("profile"):
        holders.setdefault(reservation.coupon_code, []).append(reservation.profile)
    for code, profiles in holders.items():
        services.reserve_coupon(code, profiles)
    return users, len(holders)
