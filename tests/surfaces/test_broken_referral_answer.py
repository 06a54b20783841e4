"""A referral answer without a usable code is Talon.One's error (502), never a stored
empty code or a 500 (the code column is unique).

Served by a real local HTTP server: the emulator always answers with a fresh code.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from django_talon import services
from django_talon.exceptions import TalonRequestFailedError
from django_talon.models import Referral
from tests.client.support import JSONHandler, serve_http

pytestmark = pytest.mark.django_db(transaction=True)

ANSWERS = [{"id": 1}, {"id": 1, "code": None}, {"id": 1, "code": ""}]
REPEATED = {"id": 1, "code": "SAME-CODE"}  # a second answer repeating a code already stored


@pytest.mark.parametrize("answer", [*ANSWERS, REPEATED], ids=[*map(str, ANSWERS), "repeated"])
def test_referral_answer_without_a_new_code(
    settings: Any, django_user_model: Any, answer: dict[str, Any]
) -> None:
    class Handler(JSONHandler):
        def do_PUT(self) -> None:  # the advocate's profile sync
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_json(200, {})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_json(201, answer)

    user = django_user_model.objects.create_user("ann", password="pw")
    client = Client()
    client.force_login(user)
    with serve_http(Handler) as url:
        settings.TALON = {
            **settings.TALON,
            "BASE_URL": url,
            "API_KEY": "k",
            "DELIVERY": "sync",
            "REFERRAL_CAMPAIGN_ID": 5,
            "CODE_ATTEMPT_RATE": None,
        }
        statuses = [
            client.post("/api/talon/me/referrals/", {}, content_type="application/json")
            for _ in range(2)
        ]
        with pytest.raises(TalonRequestFailedError, match="code"):
            services.create_referral(user, 5)

    if answer is REPEATED:
        assert [r.status_code for r in statuses] == [201, 502]
        assert list(Referral.objects.values_list("code", flat=True)) == ["SAME-CODE"]
    else:
        assert [r.status_code for r in statuses] == [502, 502]
        assert statuses[0].json()["detail"]
        assert not Referral.objects.exists()
