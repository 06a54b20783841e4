"""Every Integration-tagged operation of openapi.yaml has a client method and an emulator
route (issue 15: 39/39 in the client, 0 answered 404 for an unknown path).

The walk reads the operations from the spec itself, so an operation added to the document
shows up here first. Each is sent once over HTTP with placeholder path parameters; the
emulator must route it to that operation (its answer may be a 400/404 *of the operation*,
e.g. an unknown loyalty program, but never the "no such endpoint" 404).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from django_talon.client import TalonClient
from django_talon.testing.plugin import EmulatorHandle
from tests.openapi_contract import load_document

pytestmark = pytest.mark.spec


def integration_operations() -> list[tuple[str, str, str]]:
    """(operationId, METHOD, path template) of every operation tagged Integration."""
    document = load_document("openapi.yaml")
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "integration" in (operation.get("tags") or []):
                found.append((operation["operationId"], method.upper(), path))
    return sorted(found)


def method_name(operation_id: str) -> str:
    """``updateCustomerSessionV2`` -> ``update_customer_session_v2``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


def test_the_spec_has_the_39_operations_of_the_issue() -> None:
    assert len(integration_operations()) == 39


def test_the_client_has_a_method_for_every_operation() -> None:
    missing = [
        op for op, _, _ in integration_operations() if not hasattr(TalonClient, method_name(op))
    ]
    assert missing == [], f"operations without a client method: {missing}"


def test_the_emulator_routes_every_operation(emulator: EmulatorHandle) -> None:
    answers: list[dict[str, Any]] = []
    hooks = emulator.server.app.response_hooks
    hooks.append(answers.append)
    unrouted = []
    try:
        with requests.Session() as http:
            http.headers["Authorization"] = f"ApiKey-v1 {emulator.api_key}"
            for operation, method, template in integration_operations():
                path = re.sub(r"\{[^}]+\}", "1", template)
                answers.clear()
                http.request(method, emulator.url + path, json={}, timeout=5)
                routed = [a["operation"] for a in answers]
                if routed != [operation]:
                    unrouted.append(f"{operation} ({method} {path}): routed to {routed}")
    finally:
        hooks.remove(answers.append)
    assert unrouted == [], "operations the emulator does not route:\n" + "\n".join(unrouted)
