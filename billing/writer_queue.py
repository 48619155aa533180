"""A fair, first-come first-served queue for the writers of one SQLite file, with a timeout.

SQLite lets one writer in at a time and makes the others sleep and retry with a growing
back-off, so newcomers overtake writers that have waited longest (some starved for seconds
under 50 busy processes). Here every writer queues first, in the order it arrived, and waits
only for the writer just ahead of it (a CLH queue lock made of Unix sockets):

- each writer listens on a socket of its own and swaps the socket's name into the queue file
  (`<file>-writers`, a short critical section under `flock`); the name it took out is the
  writer ahead of it, to whose socket it connects;
- the writer ahead closes its socket when its turn ends, and the kernel does the same when
  that process dies: either way the connection of the writer behind ends, and it goes on;
- a writer ahead that is alive but never finishes (stopped, hung) costs at most `timeout`
  seconds: then this writer gives up with a clear error instead of waiting for ever.

On Linux the sockets live in the abstract namespace (no files); elsewhere beside the database.
Processes that share the file but not the machine's network namespace do not see each
other's turns; SQLite's own lock (busy timeout) still keeps them apart. The queue only orders
writers: SQLite's lock still guarantees one writer at a time.
"""

from __future__ import annotations

import fcntl
import os
import select
import socket
import sys
import uuid
from pathlib import Path

from billing.errors import BillingError

NAME_BYTES = 128  # the queue file holds one fixed-width, space-padded socket name
ABSTRACT = sys.platform == "linux"


class Turn:
    """This writer's place in the queue; `end()` hands the turn to the writer behind."""

    def __init__(self, listener: socket.socket, path: str | None) -> None:
        self._listener, self._path = listener, path

    def end(self) -> None:
        self._listener.close()  # resets the waiting connection of the writer behind, if any
        if self._path:
            _unlink(self._path)


def take_turn(queue: Path, timeout: float) -> Turn:
    """Wait for every writer that queued before this one, at most `timeout` seconds."""
    name = f"{os.getpid()}-{uuid.uuid4().hex}"
    fd = os.open(queue, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address = _address(queue, os.fstat(fd), name)
        listener.bind(address)
        listener.listen(4)
        turn = Turn(listener, None if ABSTRACT else address)
        try:
            ahead = _swap_tail(fd, name)
        except BaseException:
            turn.end()
            raise
        ahead_address = _address(queue, os.fstat(fd), ahead) if ahead else None
    finally:
        os.close(fd)
    try:
        if ahead_address:
            _wait_for(ahead_address, ahead, timeout)
    except BaseException:
        turn.end()
        raise
    return turn


def holder(queue: Path) -> int | None:
    """The process id of the last writer to queue (the one in its turn, if nobody waits)."""
    try:
        name = queue.read_text().strip()
    except FileNotFoundError:
        return None
    return int(name.split("-")[0]) if name else None


def _address(queue: Path, stat: os.stat_result, name: str) -> str:
    if ABSTRACT:
        return f"\0cogni-billing/{stat.st_dev}/{stat.st_ino}/{name}"
    return str(queue.with_name(f"{queue.name}.{name[:40]}"))


def _swap_tail(fd: int, name: str) -> str:
    fcntl.flock(fd, fcntl.LOCK_EX)  # held for one read and one write
    try:
        ahead = os.pread(fd, NAME_BYTES, 0).decode().strip()
        os.pwrite(fd, name.ljust(NAME_BYTES).encode(), 0)
        return ahead
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _wait_for(address: str, ahead: str, timeout: float) -> None:
    waiting = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        try:
            waiting.connect(address)
        except OSError:
            return  # its turn is over: its socket is gone
        if not select.select([waiting], [], [], timeout)[0]:
            raise BillingError(
                f"timed out after {timeout:g} s waiting for the writer ahead"
                f" (process {ahead.split('-')[0]}) to finish its write; is it stopped?"
            )
    finally:
        waiting.close()


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
