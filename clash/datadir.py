"""Who is using a data dir: the lock that keeps it to one process, and the run file that says where
that process listens.

`<data_dir>/clash.lock` is held with `flock` for the life of `clash run` / `clash repl` and names
the holder's pid; the kernel drops the lock when the process ends, however it ends (kill -9 too).
`<data_dir>/clash.run` is JSON (`pid`, `host`, `port`, `url`) written once the API listens and
removed at exit; one whose pid is no longer alive is stale and ignored.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import msgspec

LOCK_FILE = "clash.lock"
RUN_FILE = "clash.run"


class DataDirInUse(Exception):
    """Another process holds the data dir's lock."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        holder = f"pid {pid}" if pid is not None else "a process that has not written its pid yet"
        super().__init__(
            f"{data_dir} is in use by another clash process ({holder}, {data_dir / LOCK_FILE})"
        )
        self.data_dir = data_dir
        self.pid = pid


@contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[Path]:
    """Hold `<data_dir>/clash.lock` while the block runs, or raise `DataDirInUse` at once."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            raise DataDirInUse(data_dir, int(text) if text.isdigit() else None) from None
        # The file stays in place: unlinking it would let a newcomer lock a fresh inode while a
        # process that opened the old one still holds that.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)


class RunInfo(msgspec.Struct, frozen=True):
    pid: int
    host: str
    port: int

    @property
    def url(self) -> str:
        return connect_url(self.host, self.port)


def connect_url(host: str, port: int) -> str:
    """The URL a client on this machine uses for a server bound to `host:port`."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextmanager
def run_file(data_dir: Path, info: RunInfo) -> Iterator[Path]:
    """Announce `info` in `<data_dir>/clash.run` while the block runs."""
    path = data_dir / RUN_FILE
    tmp = path.with_suffix(".run.tmp")
    tmp.write_bytes(msgspec.json.encode({**msgspec.structs.asdict(info), "url": info.url}))
    os.replace(tmp, path)
    try:
        yield path
    finally:
        with suppress(FileNotFoundError):
            path.unlink()


def read_run_file(data_dir: Path) -> RunInfo | None:
    """The server running on `data_dir`, or None (no file, unreadable, or its pid is dead)."""
    try:
        info = msgspec.json.decode((data_dir / RUN_FILE).read_bytes(), type=RunInfo)
    except (OSError, msgspec.DecodeError):
        return None
    return info if pid_alive(info.pid) else None


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
