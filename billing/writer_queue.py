"""A fair, first-come first-served queue for the writers of one SQLite file, with a timeout.

SQLite lets one writer in at a time and makes the others sleep and retry with a growing
back-off, so newcomers overtake writers that have waited longest (some starved for seconds
under 50 busy processes). Here every writer queues first, in the order it arrived, and waits
only for the writer just ahead of it (a CLH queue lock made of named pipes):

- each writer makes its own pipe in `<file>-writers/` and swaps its name into `tail` (a short
  critical section under `flock`); the name it took out is the writer ahead of it;
- it waits until that writer's pipe becomes readable: the writer ahead writes one byte when its
  turn ends (after unlinking its pipe, so a late reader finds no pipe and goes straight on);
- a writer ahead that died releases its turn with its process (checked every 50 ms);
- a writer ahead that is alive but never finishes (stopped, hung) costs at most `timeout`
  seconds: then this writer gives up with a clear error instead of waiting for ever.

The queue only orders writers; SQLite's own lock still guarantees one writer at a time.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import time
import uuid
from pathlib import Path

from billing.errors import BillingError

NAME_BYTES = 64  # the tail file holds one fixed-width, space-padded name
LIVENESS_SECONDS = 0.05


class Turn:
    """This writer's place in the queue; `end()` hands the turn to the writer behind."""

    def __init__(self, pipe: Path, fd: int) -> None:
        self._pipe, self._fd = pipe, fd

    def end(self) -> None:
        try:
            self._pipe.unlink()
        except FileNotFoundError:
            pass
        os.write(self._fd, b"!")  # wakes the writer behind, if it already waits
        os.close(self._fd)


def take_turn(queue: Path, timeout: float) -> Turn:
    """Wait for every writer that queued before this one, at most `timeout` seconds."""
    queue.mkdir(exist_ok=True)
    name = f"{os.getpid()}-{uuid.uuid4().hex}"
    pipe = queue / name
    os.mkfifo(pipe, 0o600)
    turn = Turn(pipe, os.open(pipe, os.O_RDWR))
    try:
        ahead = _swap_tail(queue / "tail", name)
        if ahead:
            _wait_for(queue / ahead, timeout)
    except BaseException:
        turn.end()
        raise
    return turn


def _swap_tail(tail: Path, name: str) -> str:
    fd = os.open(tail, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held for one read and one write
        ahead = os.pread(fd, NAME_BYTES, 0).decode().strip()
        os.pwrite(fd, name.ljust(NAME_BYTES).encode(), 0)
        return ahead
    finally:
        os.close(fd)


def _wait_for(pipe: Path, timeout: float) -> None:
    try:
        fd = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return  # its turn is already over
    try:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BillingError(
                    f"timed out after {timeout:g} s waiting for the writer ahead"
                    f" (process {pipe.name.split('-')[0]}) to finish its write; is it stopped?"
                )
            if select.select([fd], [], [], min(left, LIVENESS_SECONDS))[0]:
                return
            if not _alive(int(pipe.name.split("-")[0])):
                _remove(pipe)  # it died in its turn; its files lock nothing any more
                return
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as e:
        return e.errno == errno.EPERM
    return True


def _remove(pipe: Path) -> None:
    try:
        pipe.unlink()
    except FileNotFoundError:
        pass
