"""Wall-clock time as integer milliseconds since the epoch (no float on the way)."""

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
