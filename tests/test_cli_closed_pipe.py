"""A command whose output goes into a pipe that was closed (`connector mapping schema | head -3`) ends
without a traceback: the exit code a shell shows for a program ended by SIGPIPE, nothing on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_closed_pipe_on_stdout_is_no_traceback() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes anything: every write fails (EPIPE)
    try:
        proc = subprocess.run([sys.executable, "-c", "import sys; from connector.cli import main; sys.exit(main())",
                               "mapping", "schema"], stdout=write_end, stderr=subprocess.PIPE, cwd=ROOT,
                              text=True, timeout=120, check=False)
    finally:
        os.close(write_end)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "BrokenPipeError" not in proc.stderr, proc.stderr
    assert proc.returncode == 141, (proc.returncode, proc.stderr)
