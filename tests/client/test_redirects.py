"""A 3xx answer says where it pointed and that ``base_url`` is the likely cause.

The client never follows redirects (the API key would go along to wherever they point),
and Talon.One's API does not redirect; so a 3xx nearly always means a wrong ``base_url``
(``http://`` for ``https://``, a path after the host, an old deployment's name). The fault
review's 301 said only "HTTP 301". The Location is shown without its query string (which may
carry a token); the API key is redacted from the message as from any other.
"""

from __future__ import annotations

import pytest

from django_talon.client import RetryPolicy, TalonAPIError
from django_talon.client.bodies import redirect_hint
from tests.client.support import API_KEY, BASE_URL, Answer, RecordingAdapter, make_client


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_names_its_location_and_the_base_url(status: int) -> None:
    location = f"https://elsewhere.example/v2/customer_sessions/s?token=abc&k={API_KEY}#top"
    adapter = RecordingAdapter(Answer(status, headers={"Location": location}))
    with pytest.raises(TalonAPIError) as caught:
        make_client(adapter, retry=RetryPolicy.none()).get_customer_session("s")
    text = str(caught.value)
    assert "redirected to https://elsewhere.example/v2/customer_sessions/s?***" in text
    assert "token=abc" not in text and API_KEY not in text and "#top" not in text
    assert f"check base_url {BASE_URL!r}" in text
    assert caught.value.status == status and len(adapter.sent) == 1


def test_a_3xx_without_a_location_still_points_at_the_base_url() -> None:
    adapter = RecordingAdapter(Answer(304))
    with pytest.raises(TalonAPIError, match="a redirect without a Location; .*check base_url"):
        make_client(adapter).get_customer_session("s")


def test_redirect_hint_shapes() -> None:
    assert redirect_hint("/v2/x", "https://a").startswith("redirected to /v2/x; ")
    assert redirect_hint("http://[bad/x", "https://a").startswith(
        "redirected to an unreadable Location; "
    )
    long = redirect_hint("https://h/" + "p" * 1000, "https://a")
    assert "p" * 300 not in long and "..." in long
