"""Giving freed native memory back (connector/memory.py): what a thread frees must be given back too."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

import connector.memory as memory

# A thread frees 40 MB of blocks under glibc's mmap threshold, after freeing one large (mmapped) block: glibc then
# raises its trim threshold above 40 MB, and the free top of the thread's own arena, which malloc_trim never trims,
# stays resident (all 40 MB with glibc 2.36).  With one arena, the same memory is in the main arena and given back.
_PROBE = textwrap.dedent("""
    import os, sys, threading
    from connector.memory import one_malloc_arena, release_freed_memory

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    if sys.argv[1] == "one":
        one_malloc_arena()

    def work():
        big = bytearray(30_000_000)
        del big
        blocks = [bytearray(100_000) for _ in range(400)]
        del blocks

    before = rss()
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    release_freed_memory()
    print(rss() - before)
""")


def _kept(mode: str) -> int:
    env = {"PATH": "/usr/bin:/bin"}  # no MALLOC_ARENA_MAX from the caller's environment
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True, env=env)
    return int(out.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or not sys.platform.startswith("linux"),
                    reason="glibc's arenas, measured in /proc")
def test_what_a_thread_frees_is_given_back_with_one_arena() -> None:
    assert _kept("one") < 4_000_000


def test_one_malloc_arena_runs_once_and_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(memory, "_ONE_ARENA", False)
    monkeypatch.setattr(memory.platform, "libc_ver", lambda: calls.append("asked") or ("glibc", "2.36"))
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")  # the user's choice is kept: mallopt is not called
    memory.one_malloc_arena()
    memory.one_malloc_arena()
    assert memory._ONE_ARENA and calls == []
    monkeypatch.setattr(memory, "_ONE_ARENA", False)
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    monkeypatch.setattr(memory.platform, "libc_ver", lambda: ("", ""))  # not glibc: nothing to set
    memory.one_malloc_arena()
    assert memory._ONE_ARENA


def test_a_csv_table_is_allocated_by_malloc_not_arrows_pool(tmp_path) -> None:
    """Arrow's default pool (mimalloc) kept the pages its parser threads filled after the table was freed; the C
    library's are given back (connector/sources/spreadsheet/columnar.py).  Measured in a process of its own: a
    thread another test left in this one may allocate from Arrow's pool meanwhile (seen once in a fresh clone)."""
    pytest.importorskip("pyarrow")
    path = tmp_path / "p.csv"
    path.write_text("SKU,Name\n" + "".join(f"S{i},Name {i}\n" for i in range(20_000)))
    code = textwrap.dedent(f"""
        import pyarrow as pa
        from connector.sources.spreadsheet.columnar import read_table
        system, default = pa.system_memory_pool(), pa.default_memory_pool()
        before = system.bytes_allocated(), default.bytes_allocated()
        table = read_table({str(path)!r}, ",", 0, 2)
        assert table is not None and table.num_rows == 20_001
        print(system.bytes_allocated() - before[0] - table.nbytes, default.bytes_allocated() - before[1])
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    system_over_table, default_grew = map(int, done.stdout.split())
    assert system_over_table >= 0  # the table's bytes came from the C library's pool
    assert default_grew == 0  # and none from Arrow's
