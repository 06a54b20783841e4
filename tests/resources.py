"""Where the test suite finds resources that live outside the repository.

A test that needs one calls the matching ``require_*`` function: without the resource the
test is skipped with a reason that says what is missing and how to provide it. Under
``TALON_STRICT_TESTS=1`` (CI) the conftest turns every such skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = Path(os.environ.get("TALON_SPEC_DIR", REPO_ROOT.parent / "shared" / "spec"))

STRICT = os.environ.get("TALON_STRICT_TESTS", "") not in ("", "0", "false", "no")


def require_spec() -> Path:
    """Return the folder with the official OpenAPI documents, or skip."""
    if not (SPEC_DIR / "openapi.yaml").is_file():
        pytest.skip(
            f"official OpenAPI documents not found in {SPEC_DIR} "
            "(set TALON_SPEC_DIR to the folder holding openapi.yaml)"
        )
    return SPEC_DIR
