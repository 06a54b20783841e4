"""``TalonRequestMiddleware``: lets signal-only wiring know the visitor's request.

Why: the receivers see a saved cart, never the request. A coupon typed into an empty cart
creates a cart-less session remembered in ``request.session``; when the first item is
added, only the request says which visitor's cart-less session the new cart should adopt.
With this middleware, :func:`current_request` returns the request being served (a
``contextvars`` variable: per thread and per asyncio task), and
:func:`django_talon.services.update_cart` uses it when no ``request=`` is passed.

Sync and async: under ASGI it runs in the event loop (no thread per request for it, and
no switch of an async view to a thread), under WSGI as a plain function. The request is
known for the whole response: the view, and the body of a ``StreamingHttpResponse``
(iterated after the middleware returned; each chunk is produced with the request set and
reset afterwards, so nothing leaks between chunks or into another request). A
``FileResponse`` is left as it is (its file may go to the server's ``wsgi.file_wrapper``,
and no shop code runs while a file streams).

Optional: without it, logged-in customers still get their cart-less session adopted (it
belongs to their profile); only anonymous visitors need the request. Add it after
``SessionMiddleware`` and ``AuthenticationMiddleware`` (docs/adapters.md#empty-carts).
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase

__all__ = ["TalonRequestMiddleware", "current_request"]

_REQUEST: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "django_talon_request", default=None
)


def current_request() -> HttpRequest | None:
    """The request :class:`TalonRequestMiddleware` is serving in this context, or None."""
    return _REQUEST.get()


class TalonRequestMiddleware:
    """Remember the current request for the receivers, in sync and async stacks (see the
    module docs)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        token = _REQUEST.set(request)
        try:
            response = self.get_response(request)
        finally:
            _REQUEST.reset(token)
        return _streamed_with(request, response)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        token = _REQUEST.set(request)
        try:
            response = await get_response(request)
        finally:
            _REQUEST.reset(token)
        return _streamed_with(request, response)


def _streamed_with(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """``response``, its streamed body (if any) produced with ``request`` as the current
    request: the server iterates it after the middleware has returned."""
    if not getattr(response, "streaming", False) or getattr(response, "file_to_stream", None):
        return response
    content = response.streaming_content  # type: ignore[attr-defined]
    if getattr(response, "is_async", False):
        response.streaming_content = _achunks(request, content)  # type: ignore[attr-defined]
    else:
        response.streaming_content = _chunks(request, content)  # type: ignore[attr-defined]
    return response


def _chunks(request: HttpRequest, content: Iterable[Any]) -> Iterator[Any]:
    """Each chunk of ``content`` produced with the request set, reset right after (set and
    reset in one step of the iteration: the same context, whoever iterates)."""
    iterator = iter(content)
    try:
        while True:
            token = _REQUEST.set(request)
            try:
                chunk = next(iterator)
            except StopIteration:
                return
            finally:
                _REQUEST.reset(token)
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


async def _achunks(request: HttpRequest, content: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """:func:`_chunks` for an async body (a ``StreamingHttpResponse`` of an async iterator)."""
    iterator = aiter(content)
    try:
        while True:
            token = _REQUEST.set(request)
            try:
                chunk = await anext(iterator)
            except StopAsyncIteration:
                return
            finally:
                _REQUEST.reset(token)
            yield chunk
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
