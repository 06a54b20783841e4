"""Staff REST endpoints need the model permission of the matching admin action; is_staff
alone opens none of them (docs/rest-api.md#permissions)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from django_talon.models import CouponReservation
from django_talon.services import profile_for_user

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/talon/"
ADD, DELETE, VIEW, CHANGE = (
    "add_couponreservation",
    "delete_couponreservation",
    "view_couponreservation",
    "change_couponreservation",
)
#: endpoint -> (method, path, the permissions of which any one opens it, success status)
ENDPOINTS = {
    "reserve": ("post", "staff/reservations/", (ADD,), 201),
    "release": ("post", "staff/reservations/release/", (DELETE,), 200),
    "holders": ("get", "staff/reservations/VIP20/", (VIEW, CHANGE), 200),
}


def _user(django_user_model: Any, name: str, *codenames: str, **flags: Any) -> Client:
    user = django_user_model.objects.create_user(name, password="pw", **flags)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def _call(client: Client, endpoint: str, customer: Any) -> int:
    method, path, _, _ = ENDPOINTS[endpoint]
    if method == "get":
        return client.get(API + path).status_code
    payload = {"code": "VIP20", "user_ids": [customer.pk]}
    return client.post(API + path, payload, content_type="application/json").status_code


@pytest.fixture
def ann(shop: Any, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("ann", password="pw")
    profile_for_user(user)
    return user


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_staff_without_the_permission_is_refused(
    ann: Any, django_user_model: Any, endpoint: str
) -> None:
    _, _, perms, _ = ENDPOINTS[endpoint]
    others = [p for p in (ADD, DELETE, VIEW, CHANGE) if p not in perms]
    staff = _user(django_user_model, "staff", *others, is_staff=True)
    assert _call(staff, endpoint, ann) == 403
    if endpoint == "reserve":
        assert not CouponReservation.objects.exists()


@pytest.mark.parametrize(
    ("endpoint", "perm"),
    [(endpoint, perm) for endpoint, (_, _, perms, _) in ENDPOINTS.items() for perm in perms],
)
@pytest.mark.parametrize("is_staff", [True, False], ids=["staff", "service-account"])
def test_the_permission_opens_the_endpoint(
    ann: Any, django_user_model: Any, endpoint: str, perm: str, is_staff: bool
) -> None:
    client = _user(django_user_model, "crm", perm, is_staff=is_staff)
    assert _call(client, endpoint, ann) == ENDPOINTS[endpoint][3]


def test_a_group_permission_and_a_superuser(ann: Any, django_user_model: Any) -> None:
    group = Group.objects.create(name="crm")
    group.permissions.add(Permission.objects.get(codename=ADD))
    member = django_user_model.objects.create_user("member", password="pw")
    member.groups.add(group)
    client = Client()
    client.force_login(member)
    assert _call(client, "reserve", ann) == 201
    assert _call(client, "release", ann) == 403

    root = django_user_model.objects.create_superuser("root", password="pw")
    client = Client()
    client.force_login(root)
    assert [_call(client, e, ann) for e in ENDPOINTS] == [201, 200, 200]


def test_inactive_and_anonymous_users_are_refused(ann: Any, django_user_model: Any) -> None:
    client = _user(django_user_model, "gone", ADD, DELETE, VIEW, is_staff=True)
    django_user_model.objects.filter(username="gone").update(is_active=False)
    assert [_call(client, e, ann) for e in ENDPOINTS] == [403, 403, 403]
    assert [_call(Client(), e, ann) for e in ENDPOINTS] == [403, 403, 403]
