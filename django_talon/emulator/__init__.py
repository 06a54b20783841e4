"""A local, stateful Talon.One Integration API emulator (no Django).

Run it with ``python -m django_talon.emulator`` or embed it::

    from django_talon.emulator import EmulatorServer

    with EmulatorServer(api_key="secret") as server:
        ...  # point a TalonClient at server.url

See docs/emulator.md for campaigns, control endpoints and faults.
"""

from __future__ import annotations

from django_talon.emulator.app import EmulatorApp
from django_talon.emulator.campaign_file import DEMO_CAMPAIGNS, CampaignFileError, load_campaigns
from django_talon.emulator.control import EmulatorControl, EmulatorControlError
from django_talon.emulator.faults import Fault, FaultSpecError
from django_talon.emulator.server import EmulatorServer

__all__ = [
    "DEMO_CAMPAIGNS",
    "CampaignFileError",
    "EmulatorApp",
    "EmulatorControl",
    "EmulatorControlError",
    "EmulatorServer",
    "Fault",
    "FaultSpecError",
    "load_campaigns",
]
