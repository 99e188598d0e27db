"""One run per state file: an exclusive ``flock`` on ``<state file>.lock``, beside the *resolved* file.

The lock file is named after the state file's real path (symlinks followed), so two paths to the same state
(one of them a symlink, or through a symlinked folder) take the same lock and exclude each other.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from connector.errors import StateLockedError


class FileLock:
    """Held from ``acquire`` to ``release``; the holder's pid is written in the lock file for the message."""

    def __init__(self, state_path: Path) -> None:
        self.state_path = state_path
        self.path = state_path.with_name(state_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> FileLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise StateLockedError(
                f"another run is using the state file {self.state_path} (held by pid {holder}); wait for it to "
                f"finish, or remove {self.path} if no connector is running") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
