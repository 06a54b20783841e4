"""pytest plugin (registered through the ``pytest11`` entry point): a Talon.One emulator fixture.

Fixtures:

* ``talon_emulator_server`` (session): one :class:`~django_talon.emulator.EmulatorServer` on a
  free port over real HTTP, shared by the whole test session.
* ``talon_emulator`` (function): an :class:`EmulatorHandle` on that server, reset before each
  test (start-up campaigns, empty state, no faults, empty call log).
* ``talon_settings`` (function, Django projects with pytest-django; defined in
  :mod:`django_talon.testing.django`, registered from here): points ``settings.TALON``
  ``BASE_URL``/``API_KEY`` at the emulator for the test.

Markers: ``@pytest.mark.talon_campaigns(path_or_data)`` loads other campaigns for one test;
``@pytest.mark.talon_fault(kind=..., ...)`` (repeatable) installs faults before the test.
Options: ``--talon-emulator-campaigns FILE`` and ``--talon-emulator-fault SPEC`` (repeatable,
applied at every reset); the ini key ``talon_emulator_campaigns`` works too. The ini key
``talon_emulator_check = "module:function"`` runs a check on every answer the emulator gives
during a test (this project uses it to validate them all against the OpenAPI documents).

This module must stay importable without Django: nothing Django-related is imported at module
level, and ``talon_settings`` asks pytest-django for its ``settings`` fixture only when used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from django_talon.emulator import EmulatorControl, EmulatorServer

if TYPE_CHECKING:
    from django_talon.client import TalonClient

API_KEY = "pytest-emulator-key"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("talon-emulator", "Talon.One emulator")
    group.addoption(
        "--talon-emulator-campaigns",
        default=None,
        help="campaign file for the talon_emulator fixture (default: the shipped demo campaigns)",
    )
    group.addoption(
        "--talon-emulator-fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="fault installed at every emulator reset, JSON or 'kind:key=value,...' (repeatable)",
    )
    parser.addini(
        "talon_emulator_campaigns", "campaign file for the talon_emulator fixture", default=""
    )
    parser.addini(
        "talon_emulator_check",
        "'module:function' called with every Integration API answer the emulator gives during a "
        "test (dict: operation, method, path, query, status, body); an AssertionError fails "
        "the test at teardown",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    # ``talon_settings`` lives in django_talon.testing.django (owner: core); that module imports
    # only pytest at module level (Django lazily, inside the fixture), so registering it here
    # keeps this plugin usable in projects without Django.
    if not config.pluginmanager.has_plugin("django_talon.testing.django"):
        try:
            config.pluginmanager.import_plugin("django_talon.testing.django")
        except ImportError as exc:  # keep the emulator fixtures working without it
            config.issue_config_time_warning(
                pytest.PytestConfigWarning(f"talon_settings fixture unavailable: {exc}"),
                stacklevel=2,
            )
    config.addinivalue_line(
        "markers", "talon_campaigns(source): load these campaigns (path or data) into the emulator"
    )
    config.addinivalue_line(
        "markers", "talon_fault(**spec): install an emulator fault before the test (repeatable)"
    )


class EmulatorHandle:
    """What a test gets from ``talon_emulator``: URL, key, control handle and a client factory."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.url = server.url
        self.api_key = server.api_key
        self.application_id = server.application_id
        self.application_key = server.application_key
        self.control = EmulatorControl(server.url)

    def __repr__(self) -> str:  # never show the key
        return f"<EmulatorHandle {self.url}>"

    def client(self, **kwargs: Any) -> TalonClient:
        """A :class:`~django_talon.client.TalonClient` pointed at the emulator."""
        from django_talon.client import TalonClient

        kwargs.setdefault("application_id", self.application_id)
        kwargs.setdefault("application_key", self.application_key)
        return TalonClient(self.url, self.api_key, **kwargs)

    # shortcuts (in-process, no HTTP round trip)
    def reset(self) -> None:
        self.server.app.reset()

    def state(self) -> dict[str, Any]:
        return {**self.server.app.store.dump(), "faults": self.server.app.faults.list()}

    def load_campaigns(self, data: Any) -> None:
        if isinstance(data, str) and not data.lstrip().startswith(("{", "[")):
            data = Path(data)
        self.server.app.load_campaigns(data)

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        return self.server.app.faults.add(spec).to_dict()

    def clear_faults(self) -> None:
        self.server.app.faults.clear()

    def requests(self, path_prefix: str | None = None) -> list[dict[str, Any]]:
        return self.server.app.call_log(path_prefix)

    def clear_requests(self) -> None:
        self.server.app.clear_calls()


Checker = Callable[[dict[str, Any]], None]
_CHECKERS: dict[str, Checker] = {}


def _checker(config: pytest.Config) -> Checker | None:
    """The ``talon_emulator_check`` function, imported once."""
    spec = str(config.getini("talon_emulator_check") or "").strip()
    if not spec:
        return None
    if spec not in _CHECKERS:
        module_name, _, attribute = spec.partition(":")
        if not attribute:
            raise pytest.UsageError(f"talon_emulator_check must be 'module:function', got {spec!r}")
        _CHECKERS[spec] = getattr(importlib.import_module(module_name), attribute)
    return _CHECKERS[spec]


def answer_problems(answers: list[dict[str, Any]], check: Checker) -> list[str]:
    """One line per recorded emulator answer that ``check`` rejects with an AssertionError.

    Shared by the ``talon_emulator_check`` option and suites that check answers themselves,
    so a failing answer is reported the same way (``METHOD path -> status: why``).
    """
    problems = []
    for answer in answers:
        try:
            check(answer)
        except AssertionError as exc:
            problems.append(f"{answer['method']} {answer['path']} -> {answer['status']}: {exc}")
    return problems


def _campaign_source(config: pytest.Config) -> str | None:
    option = config.getoption("--talon-emulator-campaigns")
    if option:
        return str(option)
    ini = config.getini("talon_emulator_campaigns")
    return str(ini) if ini else None


@pytest.fixture(scope="session")
def talon_emulator_server(pytestconfig: pytest.Config) -> Iterator[EmulatorServer]:
    """One emulator for the whole test session (started lazily, stopped at the end)."""
    server = EmulatorServer(api_key=API_KEY, campaigns=_campaign_source(pytestconfig))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def talon_emulator(
    talon_emulator_server: EmulatorServer, request: pytest.FixtureRequest
) -> Iterator[EmulatorHandle]:
    """The shared emulator, reset for this test; markers/options add campaigns and faults."""
    handle = EmulatorHandle(talon_emulator_server)
    handle.reset()
    marker = request.node.get_closest_marker("talon_campaigns")
    if marker is not None:
        handle.load_campaigns(marker.args[0] if marker.args else marker.kwargs["source"])
    for spec in request.config.getoption("--talon-emulator-fault"):
        talon_emulator_server.app.faults.add(spec)
    for fault_marker in request.node.iter_markers("talon_fault"):
        handle.add_fault(**fault_marker.kwargs)
    checker = _checker(request.config)
    answers: list[dict[str, Any]] = []
    hooks = talon_emulator_server.app.response_hooks
    if checker is not None:
        hooks.append(answers.append)
    try:
        yield handle
    finally:
        if checker is not None:
            hooks.remove(answers.append)
        handle.clear_faults()  # wakes anything still hanging
    if checker is not None:
        problems = answer_problems(answers, checker)
        if problems:
            pytest.fail(
                "emulator answers failed talon_emulator_check:\n" + "\n".join(problems),
                pytrace=False,
            )
