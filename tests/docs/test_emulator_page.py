"""docs/emulator.md's "Running it" commands work from an installed package, not only from a
checkout: run from a directory outside the repository (where a path like
``django_talon/emulator/campaigns/demo.json`` does not resolve), the emulator starts and
the path one-liner names the shipped demo file."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from tests.docs.snippets import section, snippets

PAGE = "emulator.md"


def commands() -> list[list[str]]:
    """The ``$`` commands of the section's console blocks, ``python`` as this interpreter."""
    text = section(PAGE, "Running it")
    found = []
    for block in snippets(PAGE):
        if block.lang != "console" or block.code not in text:
            continue
        command = block.code.replace("\\\n", " ").strip().removeprefix("$ ")
        argv = shlex.split(command)
        assert argv[0] == "python", command
        found.append([sys.executable, *argv[1:]])
    return found


def test_the_run_command_starts_from_any_directory(tmp_path: Path) -> None:
    run = next(argv for argv in commands() if "-m" in argv)
    run[run.index("--port") + 1] = "0"  # any free port: the suite's emulators use theirs
    proc = subprocess.Popen(run, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(3)
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_the_path_command_names_the_shipped_demo_file(tmp_path: Path) -> None:
    (where,) = [argv for argv in commands() if "-c" in argv]
    done = subprocess.run(where, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    demo = Path(done.stdout.strip())
    assert demo.is_file() and demo.name == "demo.json"
    assert "application" in json.loads(demo.read_text())  # the campaign file, as shipped
