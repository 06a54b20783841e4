"""``TalonRequestMiddleware`` under WSGI and ASGI, and for a streamed body.

The middleware used to be sync-only (under ASGI Django ran it in a thread and the async
view behind it through ``async_to_sync``) and reset the request when the view returned,
before the server iterated a ``StreamingHttpResponse``: a cart updated while the body
streamed (``update_cart`` without ``request=``) did not know its visitor. It is now sync
and async capable and keeps the request for each chunk of a streamed body.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.test import AsyncClient, Client, RequestFactory

from django_talon.middleware import TalonRequestMiddleware, current_request

pytestmark = pytest.mark.django_db(transaction=True)


def content(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_a_streamed_body_knows_its_request_under_wsgi(session_shop: Any) -> None:
    response = Client().get("/stream/")
    assert content(response) == b"during body: True\n"
    assert current_request() is None


def test_a_streamed_body_knows_its_request_under_asgi(session_shop: Any) -> None:
    async def scenario() -> tuple[bytes, dict[str, Any]]:
        client = AsyncClient()
        response = await client.get("/a/stream/")
        body = b"".join([chunk async for chunk in response.streaming_content])
        seen = (await client.get("/a/request/")).json()
        return body, seen

    body, seen = async_to_sync(scenario)()
    assert body == b"during body: True\nin a thread: True\n"
    assert seen == {"in_view": True, "in_thread": True}
    assert current_request() is None


def test_it_runs_in_the_event_loop_under_asgi() -> None:
    """Async capable: in an async stack it is a coroutine function itself (no thread per
    request for it, no ``async_to_sync`` for the async views behind it)."""
    request = RequestFactory().get("/")
    seen: list[Any] = []

    async def view(request: Any) -> HttpResponse:
        seen.append(current_request())
        return HttpResponse("ok")

    middleware = TalonRequestMiddleware(view)
    assert TalonRequestMiddleware.async_capable and TalonRequestMiddleware.sync_capable
    assert iscoroutinefunction(middleware)
    response = asyncio.run(middleware(request))
    assert response.content == b"ok" and seen == [request] and current_request() is None

    sync = TalonRequestMiddleware(lambda r: HttpResponse("sync"))
    assert not iscoroutinefunction(sync) and sync(request).content == b"sync"


def test_each_chunk_is_made_with_the_request_and_nothing_leaks_between_them() -> None:
    request = RequestFactory().get("/")
    between: list[Any] = []

    def body() -> Iterator[bytes]:
        for _ in range(3):
            yield b"1" if current_request() is request else b"0"

    response = TalonRequestMiddleware(lambda r: StreamingHttpResponse(body()))(request)
    chunks = []
    for chunk in response.streaming_content:
        chunks.append(chunk)
        between.append(current_request())
    assert chunks == [b"1", b"1", b"1"] and between == [None, None, None]


def test_an_async_body_closed_early_is_closed_too() -> None:
    request = RequestFactory().get("/")
    closed: list[bool] = []

    async def body() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"1" if current_request() is request else b"0"
        finally:
            closed.append(True)

    async def view(request: Any) -> StreamingHttpResponse:
        return StreamingHttpResponse(body())

    async def first_chunk() -> bytes:
        response = await TalonRequestMiddleware(view)(request)
        iterator = aiter(response.streaming_content)
        chunk: bytes = await anext(iterator)
        await iterator.aclose()  # the client went away
        return chunk

    assert asyncio.run(first_chunk()) == b"1" and closed == [True]


def test_a_file_response_is_left_to_the_server(tmp_path: Any) -> None:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(b"%PDF")
    with path.open("rb") as handle:
        response = TalonRequestMiddleware(lambda r: FileResponse(handle))(RequestFactory().get("/"))
        assert response.file_to_stream is handle  # wsgi.file_wrapper may still send it
        assert content(response) == b"%PDF"
