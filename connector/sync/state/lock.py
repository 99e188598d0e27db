"""One run per state file: an exclusive ``flock`` on ``<state file>.lock``, beside the *resolved* file.

The lock file is named after the state file's real path (symlinks followed), so two paths to the same state
(one of them a symlink, or through a symlinked folder) take the same lock and exclude each other.  A hard link
has a real path of its own, so a second lock is taken on the file itself, by device and inode, in a folder
of the system's temporary directory shared by every run of this user.  The database file is never opened
for it: closing a descriptor of the database would drop SQLite's own POSIX locks held by this process.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from connector.errors import StateLockedError


class FileLock:
    """Held from ``acquire`` to ``release``; the holder's pid is written in the lock file for the message."""

    def __init__(self, state_path: Path) -> None:
        self.state_path = state_path
        self.path = state_path.with_name(state_path.name + ".lock")
        self._fd: int | None = None
        self._inode_fd: int | None = None

    def acquire(self) -> FileLock:
        self._fd = _take(self.path, lambda holder: (
            f"another run is using the state file {self.state_path} (held by pid {holder}); wait for it to "
            f"finish, or remove {self.path} if no connector is running"))
        try:
            self._inode_fd = self._lock_inode()
        except BaseException:
            self.release()
            raise
        return self

    def _lock_inode(self) -> int | None:
        try:
            os.close(os.open(self.state_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # a new, empty state
        except FileExistsError:
            pass
        except OSError:
            return None  # not a place a file can be made: opening the state says why
        try:
            st = os.stat(self.state_path)
            folder = Path(tempfile.gettempdir()) / f"connector-state-locks-{os.getuid()}"
            folder.mkdir(mode=0o700, exist_ok=True)
            return _take(folder / f"{st.st_dev}-{st.st_ino}.lock", lambda holder: (
                f"another run is using the state file {self.state_path} under another name (a hard link to "
                f"it; held by pid {holder}); wait for it to finish"))
        except OSError:  # no usable temporary folder: the lock beside the state file still holds
            return None

    def release(self) -> None:
        for name in ("_inode_fd", "_fd"):
            fd = getattr(self, name, None)
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
                setattr(self, name, None)


def _take(path: Path, refused: Callable[[str], str]) -> int:
    """An exclusive ``flock`` on ``path`` with this pid written in it; ``refused(holder pid)`` is the message
    when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise StateLockedError(refused(holder)) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd
