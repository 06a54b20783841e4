"""The error type every emulator layer raises, rendered as Talon.One's real error body.

Talon.One answers errors with ``{message, errors: [{title, details, source}], StatusCode}``
(``ErrorResponseWithStatus`` in the spec; ``ErrorResponse`` lacks only ``StatusCode``, which
is allowed there as an extra property). Raising :class:`ApiError` anywhere below the WSGI
layer guarantees that shape, so no code path can leak a traceback or a 500.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An Integration API error answer (status + Talon.One error body)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        title: str | None = None,
        details: str | None = None,
        pointer: str | None = None,
        parameter: str | None = None,
        resource: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        if errors is not None:
            self.errors = errors
        else:
            source: dict[str, str] = {}
            if pointer is not None:
                source["pointer"] = pointer
            elif parameter is not None:
                source["parameter"] = parameter
            else:
                source["resource"] = resource or "request"
            error: dict[str, Any] = {"title": title or message, "source": source}
            if details:
                error["details"] = details
            self.errors = [error]

    def body(self) -> dict[str, Any]:
        """The JSON body Talon.One sends for this error."""
        return {"message": self.message, "errors": self.errors, "StatusCode": self.status}


def bad_request(
    message: str, *, pointer: str | None = None, parameter: str | None = None
) -> ApiError:
    """A 400 pointing at the offending JSON field or query parameter."""
    return ApiError(
        400,
        message,
        title="Invalid request",
        details=message,
        pointer=pointer,
        parameter=parameter,
        resource=None if (pointer or parameter) else "request body",
    )


def not_found(message: str, resource: str) -> ApiError:
    """A 404 naming the missing resource."""
    return ApiError(404, message, title="Not found", details=message, resource=resource)


def conflict(
    message: str = "Too many requests are updating this session at the same time",
) -> ApiError:
    """The documented 409 for parallel updates (``errors`` is an empty list in the real API)."""
    return ApiError(409, message, errors=[])
