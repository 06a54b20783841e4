"""Check one emulator answer against the official OpenAPI documents.

Used by ``tests/emulator/conftest.py`` and, through the plugin's ``talon_emulator_check`` ini
option (see pyproject.toml), for every answer the emulator gives anywhere in the test suite.
v1 answers carry effects in ``event.effects`` as positional arrays (the real wire format, see
spec/TALON_API.md section 5.4) while the 2021 document declares "array of object"; those are
checked for the positional shape and then validated with the rest of the body.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.resources import SPEC_DIR

V1_OPERATIONS = {"trackEvent", "updateCustomerSession", "updateCustomerProfile"}


def check_response(answer: dict[str, Any]) -> None:
    """Validate one recorded emulator answer against the official documents."""
    from tests.openapi_contract import validate_response

    operation = answer["operation"]
    body = copy.deepcopy(answer["body"])
    if operation is None:  # unknown path / wrong method: must still be the real error shape
        assert answer["status"] in (404, 405), answer
        validate_response("getCustomerSession", status=404, body=body)
        return
    if operation in V1_OPERATIONS and answer["status"] < 300:
        effects = body["event"]["effects"]
        for effect in effects:
            assert isinstance(effect, list) and len(effect) == 4, effect
            assert all(isinstance(x, int) for x in effect[:3]), effect
            assert isinstance(effect[3], list) and isinstance(effect[3][0], str), effect
        body["event"]["effects"] = []
    validate_response(operation, status=answer["status"], body=body)


def check_if_spec_present(answer: dict[str, Any]) -> None:
    """The suite-wide hook: validates when the spec documents exist, does nothing otherwise.

    (Suites other than the emulator's do not require the spec; the emulator's own tests
    require it and fail under TALON_STRICT_TESTS=1 when it is missing.)
    """
    if (SPEC_DIR / "openapi.yaml").is_file():
        check_response(answer)
