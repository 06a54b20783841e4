"""What kinds of outbox rows exist and how each is delivered: the operation registry.

An :class:`Operation` names a kind of row (``session.update``, ``customer.erase`` ...) and
holds its handler plus the rules the delivery engine applies to it (coalescing, "never
dead"). The built-in operations live in :mod:`django_talon.services.handlers`, which
``DjangoTalonConfig.ready()`` imports; the outbox itself never imports the services, so
the dependency runs one way (services -> outbox) and :func:`get_operation` works once the
app registry is ready.

This module is the bottom layer of the package: it imports nothing else of the outbox.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django_talon.models import OutboxMessage

if TYPE_CHECKING:
    from django_talon.client import TalonClient

#: Row states (``OutboxMessage.state``).
PENDING = "pending"
DONE = "done"
DEAD = "dead"
#: ``result`` of a dead letter made pending again by ``retry_dead``.
RETRIED = "retried"


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help (the row becomes a dead letter at once)."""


#: A handler delivers one row with the client it is given and returns the row's ``result``
#: (``"sent"``, ``"unchanged"``, ``"not_found"`` ...). It runs inside the guarded call path,
#: so it sees the client's own errors and may catch them (``TalonNotFound`` as a result).
Handler = Callable[[OutboxMessage, "TalonClient"], str]


@dataclass(frozen=True)
class Operation:
    """A kind of outbox row and how to deliver it."""

    name: str
    handler: Handler
    #: Newer rows of these operations on the same key make this row obsolete (coalescing).
    superseded_by: tuple[str, ...] = ()
    #: Retry forever instead of dead-lettering (erasure must eventually succeed).
    never_dead: bool = False
    #: Called after a failed attempt was recorded (``message.last_error`` is already set).
    on_failure: Callable[[OutboxMessage, BaseException], None] | None = None
    #: Called once the row became a dead letter.
    on_dead: Callable[[OutboxMessage, BaseException], None] | None = None


_registry: dict[str, Operation] = {}


def register(operation: Operation) -> Operation:
    """Register an operation (``django_talon.services.handlers`` registers the built-in ones
    when the app is ready). Registering a name again replaces the earlier operation."""
    _registry[operation.name] = operation
    return operation


def get_operation(name: str) -> Operation:
    """The registered operation called ``name`` (``KeyError`` for an unknown name)."""
    try:
        return _registry[name]
    except KeyError:
        raise KeyError(f"unknown outbox operation {name!r}") from None


def fingerprint(payload: Any) -> str:
    """Stable hash of a JSON payload (key order does not matter)."""
    data = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode()).hexdigest()
