"""What every operation group shares: the one way to send, reading a JSON object, path helpers.

An operation group (one module per API area) checks its input, picks the path, the body and
the operation's own "safe to repeat" verdict, and decodes the answer. It never talks HTTP:
:meth:`OperationGroup._send` is implemented once, by
:class:`~django_talon.client.client.TalonClient`, which hands a :class:`~..transport.Call`
to its transport. So the groups add methods, not call paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from ..errors import TalonDecodeError, TalonValidationError
from ..transport import Reply

__all__ = [
    "OperationGroup",
    "campaign_id_list",
    "require_id",
    "require_mapping",
    "response_content_list",
    "segment",
]


def segment(value: str) -> str:
    """URL-encode one path segment completely (``/``, ``%``, ``?``, ``#`` and spaces too)."""
    return quote(value, safe="")


def response_content_list(value: Sequence[str] | None, field: str) -> list[str] | None:
    """``responseContent`` as a list of strings (a bare string would be split into letters)."""
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise TalonValidationError("must be a list of strings", field=field)
    return list(value)


def require_mapping(value: Any, field: str) -> Mapping[str, Any]:
    """``value`` if it is a mapping; a JSON object is the only shape these fields take."""
    if not isinstance(value, Mapping):
        raise TalonValidationError(f"must be a dict, got {type(value).__name__}", field=field)
    return value


def require_id(value: Any, field: str) -> int:
    """A Talon.One entity id (audience, catalog, campaign): an integer >= 1, not a bool."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TalonValidationError(f"must be an integer >= 1, got {value!r}", field=field)
    return value


def campaign_id_list(value: Any, field: str) -> list[int]:
    """``evaluableCampaignIds``: a list of campaign ids (a bare int or string is refused)."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise TalonValidationError("must be a list of campaign ids", field=field)
    return [require_id(cid, f"{field}[{index}]") for index, cid in enumerate(value)]


class OperationGroup:
    """Base of the operation mixins; :class:`~django_talon.client.TalonClient` combines them.

    Holds no state: the only thing a group needs from the client is :meth:`_send`.
    """

    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        has_body: bool = False,
        query: Mapping[str, str] | None = None,
        safe_to_retry: bool,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one operation (``body`` is JSON-encoded when ``has_body``); see TalonClient."""
        raise NotImplementedError("an operation group is used through TalonClient")

    def _send_for_object(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        has_body: bool = False,
        query: Mapping[str, str] | None = None,
        safe_to_retry: bool,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """:meth:`_send`, then the reply body as a JSON object (named after ``operation``)."""
        reply = self._send(
            operation,
            method,
            path,
            body=body,
            has_body=has_body,
            query=query,
            safe_to_retry=safe_to_retry,
            headers=headers,
        )
        return self._json_object(reply, operation)

    @staticmethod
    def _json_object(reply: Reply, call: str) -> dict[str, Any]:
        if not isinstance(reply.body, dict):
            raise TalonDecodeError(
                f"{call} ({reply.method} {reply.path} -> {reply.status}): expected a JSON "
                f"object, got {type(reply.body).__name__}",
                method=reply.method,
                path=reply.path,
                status=reply.status,
            )
        return reply.body
