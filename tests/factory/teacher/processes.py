"""Find the llama.cpp server processes (`python -m factory.llama_server`) by reading /proc."""

from __future__ import annotations

from pathlib import Path

__all__ = ["server_pids"]


def server_pids(port: int | None = None) -> set[int]:
    """PIDs of llama.cpp server processes, only those started for `port` when it is given."""
    pids = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"factory.llama_server" in argv and (port is None or str(port).encode() in argv):
            pids.add(int(cmdline.parent.name))
    return pids
