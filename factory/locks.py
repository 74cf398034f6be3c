"""Advisory file locks (`flock`) shared by the ledger, the OpenLineage log and release builds.

Written here rather than taken from `filelock`: readers need shared locks, which `filelock`
does not offer, and the few lines below are all there is to it.
"""

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["file_lock"]


@contextlib.contextmanager
def file_lock(path: Path, *, shared: bool = False, create: bool = True) -> Iterator[None]:
    """Hold a `flock` on `path` for the block: exclusive, or `shared` among readers.

    `path` is created when missing unless `create` is False; opening it raises `OSError` (a
    missing file, a read-only folder) before any lock is taken, for the caller to decide.
    """
    flags = os.O_RDONLY if shared else os.O_RDWR
    fd = os.open(path, flags | os.O_CREAT, 0o644) if create else os.open(path, flags)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
