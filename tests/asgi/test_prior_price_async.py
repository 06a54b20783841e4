"""Best prior price from async code: a loud error instead of a stalled event loop.

A lookup is a blocking HTTP call to Talon.One and touches no database, so Django's ORM
guard never caught it: ``best_prior_price`` in an async view (or ``{% talon_best_prior_price
%}`` rendered there) stalled every request of the worker for the whole call. It is now
``async_unsafe`` like the ORM, and ``abest_prior_price`` / ``abest_prior_prices`` are the
``await``-able variants (docs/async.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async
from django.core.exceptions import SynchronousOnlyOperation
from django.template import Context, Template
from django.test import AsyncClient

from django_talon.services.prices import (
    PriorPrice,
    abest_prior_price,
    abest_prior_prices,
    best_prior_price,
)
from tests.core.test_best_prior_price import PRICE_PATH, price_calls, priced  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

TAG = Template("{% load talon_prices %}{% talon_best_prior_price product %}")


def test_the_sync_lookup_refuses_to_run_in_the_event_loop(
    priced: list[Any],  # noqa: F811
    talon_emulator: Any,
) -> None:
    sku = priced[1].sku

    async def naive() -> None:
        best_prior_price(sku)

    with pytest.raises(SynchronousOnlyOperation, match="abest_prior_price"):
        async_to_sync(naive)()
    assert price_calls(talon_emulator) == 0  # refused before Talon.One was asked


def test_the_async_variants_ask_in_a_thread(priced: list[Any], talon_emulator: Any) -> None:  # noqa: F811
    skus = [p.sku for p in priced]

    async def lookups() -> tuple[Any, dict[str, Any]]:
        one = await abest_prior_price(priced[1])
        many = await abest_prior_prices(skus)
        return one, many

    one, many = async_to_sync(lookups)()
    assert isinstance(one, PriorPrice) and str(one.price) == "10.01"
    assert set(many) == set(skus) and many[priced[1].sku] == one
    assert price_calls(talon_emulator) == 2  # the second call asked only for the others


def test_the_tag_refuses_in_the_event_loop_and_renders_a_price_looked_up_before(
    priced: list[Any],  # noqa: F811
    talon_emulator: Any,
) -> None:
    product = priced[1]

    async def render_in_the_loop() -> str:
        return TAG.render(Context({"product": product}))

    with pytest.raises(SynchronousOnlyOperation):
        async_to_sync(render_in_the_loop)()

    async def the_async_way() -> tuple[str, str]:
        in_a_thread = await sync_to_async(TAG.render)(Context({"product": product}))
        prior = await abest_prior_price(product)  # cached by the render: no call
        handed_over = TAG.render(Context({"product": prior}))  # no lookup: fine in the loop
        return in_a_thread, handed_over

    in_a_thread, handed_over = async_to_sync(the_async_way)()
    assert "Lowest price in the last 30 days: 10.01 EUR" in in_a_thread
    assert handed_over.strip() == in_a_thread.strip()
    assert price_calls(talon_emulator) == 1


def test_an_async_view_awaiting_a_slow_lookup_leaves_the_loop_to_other_requests(
    priced: list[Any],  # noqa: F811
    talon_emulator: Any,
    session_shop: Any,
) -> None:
    talon_emulator.control.add_fault(kind="latency", seconds=1.0, path=PRICE_PATH + "*")
    sku = priced[1].sku

    async def get(client: AsyncClient, url: str) -> Any:
        # A thread of its own per request for sync_to_async, as Django's ASGIHandler gives
        # every request (the test client does not).
        async with ThreadSensitiveContext():
            return await client.get(url)

    async def concurrently() -> tuple[bool, bytes, bytes]:
        client = AsyncClient()
        slow = asyncio.ensure_future(get(client, f"/a/prior/{sku}/"))
        await asyncio.sleep(0.05)  # the lookup is on its way
        ping = await get(client, "/a/ping/")
        answered_first = not slow.done()
        return answered_first, ping.content, (await slow).content

    # asyncio.run, not async_to_sync: under async_to_sync every thread-sensitive sync call
    # goes back to this one thread (the test's), so the requests would wait for each other
    # in the test harness whatever the view does. Neither view touches the database.
    answered_first, ping, prior = asyncio.run(concurrently())
    assert ping == b"pong" and answered_first  # served while Talon.One was still asked
    assert prior == b'{"price": "10.01"}'
