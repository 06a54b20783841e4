"""The admin's customer searches follow the user model's ``USERNAME_FIELD`` and e-mail
field, as far as it has them. ``user__username`` / ``user__email`` were hard-coded: with a
user model without them every search of the profile or reservation list was a 500. The
staff REST endpoints take the user model's key as it is (tests/customuser's is a UUID)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.test import RequestFactory
from django.test.utils import isolate_apps

from django_talon.admin import CouponReservationAdmin, CustomerProfileAdmin, user_search_fields
from django_talon.models import CouponReservation, CustomerProfile

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_searches_work_for_a_user_model_without_username_and_email() -> None:
    """tests/customuser (``Member``, login ``handle``) needs its own settings: a process of
    its own, searching both lists for ``carla``."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.customuser.settings"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.customuser.admin_search"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    carla = result["carla"]
    assert result["customerprofile"] == [200, [carla]]
    assert result["couponreservation"] == [200, ["VIP20"]]
    # Member is keyed by a UUID: the staff REST endpoints take and give it as a string (an
    # IntegerField listed it as a 128-bit number and refused every such customer)
    api = result["staff_api"]
    assert api["list"] == [200, [api["carla_pk"]]]
    assert api["bad"] == [400, {"user_ids": {"0": ["Not a valid user id."]}}]
    assert api["unknown"] == 400


def test_auth_users_are_searched_by_username_and_email() -> None:
    request: Any = RequestFactory().get("/")
    profiles = CustomerProfileAdmin(CustomerProfile, admin_site=None)  # type: ignore[arg-type]
    assert profiles.get_search_fields(request) == [
        "integration_id",
        "user__username",
        "user__email",
    ]
    reservations = CouponReservationAdmin(CouponReservation, admin_site=None)  # type: ignore[arg-type]
    assert reservations.get_search_fields(request) == [
        "coupon_code",
        "profile__integration_id",
        "profile__user__username",
        "profile__user__email",
    ]


@isolate_apps("tests.basketshop")
def test_only_the_text_fields_the_user_model_has_once_each() -> None:
    class EmailLogin(AbstractBaseUser):
        email = models.EmailField(unique=True)
        USERNAME_FIELD = "email"
        EMAIL_FIELD = "email"

        class Meta:
            app_label = "basketshop"

    class NumberLogin(AbstractBaseUser):
        number = models.PositiveIntegerField(unique=True)  # not text: icontains would fail
        USERNAME_FIELD = "number"

        class Meta:
            app_label = "basketshop"

    assert user_search_fields("user__", EmailLogin) == ["user__email"]
    assert user_search_fields("profile__user__", NumberLogin) == []
