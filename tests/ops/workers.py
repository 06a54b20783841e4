"""Real Celery worker subprocesses for the ops tests: start, SIGKILL, restart, stop.

Each worker runs ``celery -A tests.ops.celery_app worker --pool=solo`` in its own process
group, so that ``kill()`` (SIGKILL to that group, i.e. only the processes this helper
started) really is a crash: no warm shutdown, no ack, the task in flight just stops.
The worker sees the test's PostgreSQL database, emulator and broker through environment
variables read by tests/ops/worker_settings.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from tests.resources import REPO_ROOT

READY_TIMEOUT = 30.0


class CeleryWorker:
    """One ``celery worker`` process that can be crashed and brought back."""

    def __init__(
        self,
        name: str,
        *,
        env: Mapping[str, str],
        queue: str,
        log_dir: Path,
        beat: bool = False,
    ) -> None:
        self.name = name
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.ops.worker_settings",
            **env,
        }
        self.queue = queue
        self.log_path = log_dir / f"{name}.log"
        self.beat = beat
        self.schedule_path = log_dir / f"{name}-beat-schedule"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.ops.celery_app",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            # The node name names the worker's exclusive pidbox queue on the broker: two
            # pytest runs on one machine (nox beside make, several checkouts) must not both
            # start a "w1@host" (RabbitMQ: RESOURCE_LOCKED, the second worker dies).
            f"{self.name}-{os.getpid()}@%h",
            "-Q",
            self.queue,
        ]
        if self.beat:
            cmd += ["--beat", "--schedule", str(self.schedule_path)]
        return cmd

    def start(self) -> None:
        """Start the worker and wait until it consumes from its queue."""
        assert self.proc is None or self.proc.poll() is not None, "worker already running"
        self.starts += 1
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start #{self.starts} =====\n".encode())
            self.proc = subprocess.Popen(
                self.command(),
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited at start:\n{self.log_tail()}")
            with self.log_path.open("rb") as log:
                log.seek(offset)
                if b" ready." in log.read():
                    return
            time.sleep(0.05)
        raise RuntimeError(
            f"worker {self.name} not ready after {READY_TIMEOUT}s:\n{self.log_tail()}"
        )

    def kill(self) -> None:
        """SIGKILL the worker's process group: a crash, mid-task if one is running."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), escalating to SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def restart(self) -> None:
        self.kill()
        self.start()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError as exc:
            return f"(no log: {exc})"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
