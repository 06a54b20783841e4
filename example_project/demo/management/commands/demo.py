"""``manage.py demo``: the whole example shop on one machine with one command.

It (1) starts a fresh SQLite database (the emulator keeps its state in memory, so a
database left from an earlier run would remember reservations and sessions the new
emulator never heard of; ``--keep-db`` keeps it and sends its customer profiles and
coupon reservations to the new emulator), (2) starts the Talon.One emulator
with its demo campaigns where ``TALON["BASE_URL"]`` points, (3) migrates and loads the
demo catalog and accounts, (4) starts the shop with ``runserver`` and prints the URLs
and credentials. Ctrl-C stops both processes. If the emulator stops (killed, crashed)
the shop keeps running without Talon.One and the emulator is started again.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import BaseCommand, CommandError, call_command
from django.core.management.base import CommandParser
from django.db import connections

from example_project.demo.data import load_demo_data, replay_to_talon

REPO_DIR = Path(__file__).resolve().parents[4]
#: Seconds between the emulator stopping and the demo starting it again.
EMULATOR_RESTART_DELAY = 10.0


def demo_campaigns_file() -> Path:
    """The demo campaign file shipped inside django_talon's emulator package."""
    path = Path(str(resources.files("django_talon.emulator") / "campaigns" / "demo.json"))
    if not path.is_file():
        raise CommandError(f"the emulator's demo campaigns are missing: {path}")
    return path


def wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Block until ``host:port`` accepts connections, or fail if ``process`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"{process.args!r} exited with status {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise CommandError(f"nothing answered on {host}:{port} after {timeout:.0f} s")


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) != 0


def stop(process: subprocess.Popen[bytes] | None, name: str, out: Any) -> None:
    """Ask a child to stop (SIGTERM), then insist; each child is ended by its own pid."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        out.write(f"{name} did not stop on SIGTERM; killing it")
        process.kill()
        process.wait()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the example shop and the Talon.One emulator together (Ctrl-C stops both)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1", help="shop address (127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="shop port (8000)")
        parser.add_argument(
            "--keep-db", action="store_true", help="keep the SQLite database of an earlier run"
        )
        parser.add_argument(
            "--no-emulator",
            action="store_true",
            help="do not start the emulator: TALON['BASE_URL'] already points at one",
        )
        parser.add_argument(
            "--emulator-restart-delay",
            type=float,
            default=EMULATOR_RESTART_DELAY,
            help="seconds before an emulator that stopped is started again (10)",
        )
        parser.add_argument(
            "--setup-only",
            action="store_true",
            help="migrate and load the demo data, then exit (used by the browser tests)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        #: Every child started, in order, so an interrupt at any point stops all of them.
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        emulator: subprocess.Popen[bytes] | None = None
        # Ctrl-C, and SIGTERM from a process manager, both stop the two children cleanly
        # (explicit handlers: a shell may start us with SIGINT ignored).
        previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            if not options["keep_db"]:
                self.fresh_database()
            if not options["no_emulator"] and not options["setup_only"]:
                emulator = self.start_emulator()
            call_command("migrate", interactive=False, verbosity=0)
            accounts = load_demo_data()
            if options["keep_db"] and emulator is not None:
                profiles, codes = replay_to_talon()
                self.stdout.write(
                    f"Sent {profiles} customer profile(s) and {codes} reserved code(s) "
                    "from the kept database to the fresh emulator."
                )
            if options["setup_only"]:
                self.stdout.write(self.style.SUCCESS("Demo database ready."))
                return
            self.restart_delay = options["emulator_restart_delay"]
            shop = self.start_shop(options["addr"], options["port"])
            self.banner(options["addr"], options["port"], accounts)
            self.wait(emulator, shop)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping the shop and the emulator ...")
        finally:
            for name, process in reversed(self.children):
                stop(process, name, self.stdout)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def fresh_database(self) -> None:
        database = settings.DATABASES["default"]
        if database["ENGINE"] != "django.db.backends.sqlite3":
            raise CommandError("the demo recreates a SQLite database; use --keep-db otherwise")
        path = Path(str(database["NAME"]))
        connections.close_all()
        if path.exists():
            path.unlink()
            self.stdout.write(f"Removed the previous demo database {path}")

    def start_emulator(self) -> subprocess.Popen[bytes]:
        url = urlsplit(settings.TALON["BASE_URL"])
        host, port = url.hostname or "127.0.0.1", url.port or 80
        if host not in ("127.0.0.1", "localhost"):
            raise CommandError(
                f"TALON['BASE_URL'] is {settings.TALON['BASE_URL']}: not a local emulator; "
                "pass --no-emulator to use it as it is"
            )
        if not port_is_free(host, port):
            raise CommandError(
                f"port {port} is busy: stop what runs there, or set TALON_BASE_URL to "
                "another local port (e.g. http://127.0.0.1:9101)"
            )
        command = [
            sys.executable,
            "-m",
            "django_talon.emulator",
            "--host",
            host,
            "--port",
            str(port),
            "--campaigns",
            str(demo_campaigns_file()),
            "--api-key",
            settings.TALON["API_KEY"],
        ]
        self.stdout.write(f"Starting the Talon.One emulator on {host}:{port} ...")
        process = subprocess.Popen(command)
        self.children.append(("the emulator", process))
        wait_for_port(host, port, process, timeout=30)
        return process

    def start_shop(self, addr: str, port: int) -> subprocess.Popen[bytes]:
        if not port_is_free(addr, port):
            raise CommandError(f"port {port} is busy: pass --port to use another one")
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
        env["SHOP_DB"] = str(settings.DATABASES["default"]["NAME"])
        env["TALON_BASE_URL"] = settings.TALON["BASE_URL"]
        env["TALON_API_KEY"] = settings.TALON["API_KEY"]
        command = [sys.executable, str(REPO_DIR / "manage.py"), "runserver", f"{addr}:{port}"]
        self.stdout.write(f"Starting the shop on {addr}:{port} ...")
        process = subprocess.Popen(command, env=env, cwd=REPO_DIR)
        self.children.append(("the shop", process))
        wait_for_port(addr, port, process, timeout=60)
        return process

    def banner(self, addr: str, port: int, accounts: Any) -> None:
        broker = getattr(settings, "CELERY_BROKER_URL", "")
        shop = f"http://{addr}:{port}/"
        lines = [
            "",
            "=" * 64,
            f"  Shop:      {shop}",
            f"  Admin:     {shop}admin/",
            f"  Emulator:  {settings.TALON['BASE_URL']}  (state: /_emulator/state)",
            "",
            "  Accounts (username / password):",
        ]
        lines += [f"    {a.username:<8} / {a.password:<18} {a.role}" for a in accounts]
        lines += [
            "",
            "  Coupons to try: WELCOME10 (10% off), VIP20 (reserve it for a customer",
            "  in the admin first); spend 100 EUR for a free tote bag.",
            "  Celery: "
            + (
                f"broker {broker} (start a worker and beat yourself)"
                if broker
                else "eager (tasks run in the web process; set CELERY_BROKER_URL for a broker)"
            ),
            f"  Outage switch (staff): {shop}demo/outage/  (watch fail-open and recovery)",
            "  Press Ctrl-C to stop the shop and the emulator.",
            "=" * 64,
            "",
        ]
        self.stdout.write("\n".join(lines))

    def wait(self, emulator: subprocess.Popen[bytes] | None, shop: subprocess.Popen[bytes]) -> None:
        """Run until Ctrl-C or until the shop dies. An emulator that stops does NOT stop the
        demo: the shop keeps running without Talon.One (what django-talon is built for), and
        the emulator is started again after ``EMULATOR_RESTART_DELAY`` seconds."""
        while True:
            if shop.poll() is not None:
                raise CommandError(f"the shop exited with status {shop.returncode}")
            if emulator is not None and emulator.poll() is not None:
                emulator = self.restart_emulator(emulator)
            time.sleep(0.5)

    def restart_emulator(self, dead: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        self.children = [(name, p) for name, p in self.children if p is not dead]
        self.stdout.write(
            self.style.WARNING(
                f"\nThe emulator stopped (status {dead.returncode}). The shop keeps running "
                "without Talon.One: checkouts go through without its discounts and writes "
                "wait in the outbox. Restarting the emulator in "
                f"{self.restart_delay:g} s ..."
            )
        )
        time.sleep(self.restart_delay)
        process = self.start_emulator()
        # The emulator keeps its state in memory: send it the customers and reservations
        # again (the outbox then delivers the writes that waited, sessions included).
        profiles, codes = replay_to_talon()
        self.stdout.write(
            f"Emulator back; sent {profiles} profile(s) and {codes} reserved code(s) to it."
        )
        return process
