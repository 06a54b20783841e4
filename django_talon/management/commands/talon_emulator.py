"""``manage.py talon_emulator``: run the local Talon.One emulator with the project's settings.

Why a management command when ``python -m django_talon.emulator`` exists: the project
already knows the API key, the emulator host/port and the campaigns file (``TALON``
settings), so ``manage.py talon_emulator`` starts an emulator the shop can talk to at once,
without repeating the key on a command line (where it would land in the shell history).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_talon.conf import talon_settings
from django_talon.management.arguments import port_number

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


def default_port() -> int:
    """``EMULATOR_PORT``, or the port of a local ``BASE_URL`` so the shop finds the emulator."""
    parts = urlsplit(talon_settings.BASE_URL)
    if parts.hostname in LOCAL_HOSTS and parts.port:
        return parts.port
    return talon_settings.EMULATOR_PORT


def default_campaigns() -> str:
    """``EMULATOR_CAMPAIGNS``, else the demo campaigns shipped with the emulator."""
    configured = talon_settings.EMULATOR_CAMPAIGNS
    if configured:
        return configured
    import django_talon.emulator

    return str(Path(django_talon.emulator.__file__).parent / "campaigns" / "demo.json")


class Command(BaseCommand):
    help = "Run the local Talon.One emulator with this project's TALON settings (Ctrl-C stops it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default=None, help="Interface to bind (default: TALON['EMULATOR_HOST'])."
        )
        parser.add_argument(
            "--port",
            type=port_number,
            default=None,
            help="Port (default: the port of a local TALON['BASE_URL'], else EMULATOR_PORT; "
            "0 picks a free one).",
        )
        parser.add_argument(
            "--campaigns",
            default=None,
            help="Campaigns JSON file (default: TALON['EMULATOR_CAMPAIGNS'] or the demo campaigns).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django_talon.emulator import EmulatorServer
        from django_talon.emulator.campaign_file import CampaignFileError

        api_key = talon_settings.API_KEY
        if not api_key:
            raise CommandError(
                "TALON['API_KEY'] is empty: the emulator needs the key the shop sends."
            )
        host = options["host"] or talon_settings.EMULATOR_HOST
        port = default_port() if options["port"] is None else options["port"]
        campaigns = options["campaigns"] or default_campaigns()
        if not Path(campaigns).is_file():
            raise CommandError(f"campaigns file not found: {campaigns}")

        stop = threading.Event()

        def _stop(signum: int, frame: Any) -> None:
            stop.set()

        # SIGTERM (systemd, docker stop, a test) ends the command like Ctrl-C does.
        previous = signal.signal(signal.SIGTERM, _stop)
        try:
            server = EmulatorServer(api_key=api_key, campaigns=campaigns, host=host, port=port)
            server.start()
        except CampaignFileError as exc:  # not JSON, or campaigns the emulator cannot run
            signal.signal(signal.SIGTERM, previous)
            message = str(exc) if campaigns in str(exc) else f"campaigns file {campaigns}: {exc}"
            raise CommandError(message) from exc
        except (OSError, OverflowError) as exc:  # port in use, unknown host, a bad EMULATOR_PORT
            signal.signal(signal.SIGTERM, previous)
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc
        try:
            self.stdout.write(f"Talon.One emulator listening on {server.url}", ending="\n")
            self.stdout.write(
                f"campaigns: {campaigns}; API key: TALON['API_KEY']; control: {server.url}/_emulator/",
                ending="\n",
            )
            self.stdout.flush()
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
        finally:
            server.stop()
            signal.signal(signal.SIGTERM, previous)
        self.stdout.write("emulator stopped")
