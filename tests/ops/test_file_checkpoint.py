"""``bulk_sync.FileCheckpoint`` at its edges (``--checkpoint-file`` of both bulk commands).

A path that can never hold the file (a directory, ``out/``, a path under a regular file, a
device) was found out only at the first save, after a batch was sent, and the commands
then said "run again to resume"; ``out/`` even became the file ``out``, its temporary file
written one directory up. A save that fails is now a ``CheckpointNotSavedError`` (still
an ``OSError``), told apart from an outage.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from django_talon.services import bulk_sync


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "names a directory"),
        (".", "names a directory"),
        ("new/", "names a directory"),
        ("new/.", "names a directory"),
        ("existing", "is a directory"),
        ("a-file/c.json", "a-file is not a directory"),
        ("a-file/deeper/c.json", "a-file is not a directory"),
    ],
)
def test_a_path_that_cannot_be_a_checkpoint_file_is_refused_when_made(
    name: str, problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "existing").mkdir()
    (tmp_path / "a-file").write_text("")
    with pytest.raises(bulk_sync.CheckpointPathError, match=problem) as raised:
        bulk_sync.FileCheckpoint(name)
    assert isinstance(raised.value, ValueError)
    assert "give the path of a JSON file" in str(raised.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "existing"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
@pytest.mark.timeout(60)  # reading a FIFO not refused blocks for good
def test_what_is_no_regular_file_is_refused(tmp_path: Path) -> None:
    # A FIFO stands for a device: with /dev/null, a regression run as root would replace the
    # system's /dev/null with a regular file (os.replace does not care what it replaces).
    fifo = tmp_path / "a-fifo"
    os.mkfifo(fifo)
    with pytest.raises(bulk_sync.CheckpointPathError, match="is not a regular file"):
        bulk_sync.FileCheckpoint(fifo)


def test_a_directory_without_write_permission_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The permission is asked of the system (``os.access``); as root every directory is
    writable, so the answer for this one is made "no" (a real ``chmod`` too, for the
    non-root run), and the refusal is what is tested."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    real_access = os.access

    def access(path: Any, mode: int, *args: Any, **kwargs: Any) -> bool:
        if Path(path) == locked and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    try:
        with pytest.raises(bulk_sync.CheckpointPathError, match="no permission to write"):
            bulk_sync.FileCheckpoint(locked / "sub" / "c.json")
    finally:
        locked.chmod(0o700)


def test_the_temporary_file_is_written_next_to_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "not-yet" / "c.json"
    checkpoint = bulk_sync.FileCheckpoint(target)  # a missing parent is fine: made on save
    used: list[str] = []
    real_mkstemp = tempfile.mkstemp

    def recording_mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
        fd, name = real_mkstemp(*args, **kwargs)
        used.append(name)
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", recording_mkstemp)
    checkpoint.save({"last_pk": 3})
    assert [Path(name).parent for name in used] == [target.parent]
    assert checkpoint.load() == {"last_pk": 3}
    assert [p.name for p in target.parent.iterdir()] == ["c.json"]


def test_a_save_that_fails_later_is_a_checkpoint_not_saved_error(tmp_path: Path) -> None:
    target = tmp_path / "c.json"
    checkpoint = bulk_sync.FileCheckpoint(target)
    target.mkdir()  # what the path became after the check: os.replace cannot go there
    with pytest.raises(bulk_sync.CheckpointNotSavedError, match="could not save") as raised:
        checkpoint.save({"last_pk": 3})
    assert isinstance(raised.value, OSError)  # what a failed save raised before
    assert isinstance(raised.value.__cause__, OSError)
    assert str(target) in str(raised.value)
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]  # no temporary file left


def test_a_clear_that_fails_is_a_checkpoint_not_saved_error(tmp_path: Path) -> None:
    target = tmp_path / "c.json"
    checkpoint = bulk_sync.FileCheckpoint(target)
    target.mkdir()
    with pytest.raises(bulk_sync.CheckpointNotSavedError, match="could not remove"):
        checkpoint.clear()
    target.rmdir()
    checkpoint.clear()  # a missing file is nothing to remove
