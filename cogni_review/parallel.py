"""Work shared among processes, one per core: what a large audit does with its files.

The children are forked, so they start with everything the parent has built (the gates, their
compiled patterns, the parsers) and nothing is pickled on the way in; each sends back what it
found, pickled once. The parent does a share of the work itself. Anything a child cannot finish
is raised in the parent, never dropped.
"""

from __future__ import annotations

import os
import traceback
from typing import Any, Callable, Sequence


def available() -> bool:
    """Whether this platform can fork (children inherit the parent's state)."""
    import multiprocessing  # imported here: a pull request's check never needs it

    return os.name == "posix" and "fork" in multiprocessing.get_all_start_methods()


def share(items: Sequence[Any], count: int, work: Callable[[list], Any]) -> list[Any]:
    """`work` over `count` interleaved slices of `items`; the results, the parent's first."""
    import multiprocessing

    chunks = [list(items[i::count]) for i in range(count)]
    context = multiprocessing.get_context("fork")
    children = []
    for chunk in chunks[1:]:
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(work, chunk, send), daemon=True)
        child.start()
        send.close()
        children.append((child, receive))
    results = [work(chunks[0])]
    for child, receive in children:
        try:
            status, value = receive.recv()
        except EOFError:
            status, value = "error", f"a worker process ended without a result (exit {child.exitcode})"
        child.join()
        if status == "error":
            raise RuntimeError(f"a worker process failed: {value}")
        results.append(value)
    return results


def _child(work: Callable[[list], Any], chunk: list, send: Any) -> None:
    try:
        result = ("ok", work(chunk))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
        result = ("error", traceback.format_exc())
    send.send(result)
    send.close()
