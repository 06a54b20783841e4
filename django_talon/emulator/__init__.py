"""A local, stateful Talon.One Integration API emulator (no Django).

Run it with ``python -m django_talon.emulator`` or embed it::

    from django_talon.emulator import EmulatorServer

    with EmulatorServer(api_key="secret") as server:
        ...  # point a TalonClient at server.url

See docs/emulator.md for campaigns, control endpoints and faults.

Where things live:

===================  ==================================================================
``server.py``        the threaded HTTP server (``EmulatorServer``) around the WSGI app
``app.py``           the WSGI app: auth, 409 for calls in flight, faults, the call log,
                     the ``/_emulator/`` control endpoints
``routes.py``        which method and path call which store operation
``store/``           all state and every Integration API operation, one module per area
``engine/``          the rule engine: which campaigns fire, why others don't, effects
``campaign_file.py`` the campaign-file format, its validation and loading
``models.py``        the records the store keeps, rendered in the official API shapes
``faults.py``        fault injection (latency, errors, 409s, drops, hangs)
``control.py``       ``EmulatorControl``: an HTTP handle on a running emulator
``errors.py``        Talon.One-shaped error answers; ``util.py``: clock, money, checks
===================  ==================================================================
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
