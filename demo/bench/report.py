"""The bench's result table, and the measurements it holds: seconds and the process's peak memory."""
import resource
import sys
import time

from .config import TARGETS


def peak_memory_mb():
    """The peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Table:
    """The result rows, printed at the end as one table."""

    def __init__(self):
        self.rows = []
        self.misses = []

    def add(self, step, seconds, rows=None, floor=None, note=""):
        rate = f"{rows / seconds:,.0f}" if rows and seconds else ""
        floor_cells = (f"{floor:.2f}", f"{seconds / floor:.1f}x") if floor else ("", "")
        if floor and seconds / floor > TARGETS["floor_ratio"]:
            self.misses.append(f"{step}: {seconds / floor:.1f}x its SQL floor (target {TARGETS['floor_ratio']}x)")
        self.rows.append(
            (step, f"{seconds:.2f}", f"{rows:,}" if rows is not None else "", rate, f"{peak_memory_mb():.0f}", *floor_cells, note)
        )

    def print(self, out=sys.stdout):
        header = ("step", "seconds", "rows", "rows/s", "peak MB", "floor s", "ours/floor", "note")
        widths = [max(len(str(row[i])) for row in [header, *self.rows]) for i in range(len(header))]
        for row in [header, tuple("-" * width for width in widths), *self.rows]:
            out.write("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
        out.write("\nTargets missed:\n" if self.misses else "\nEvery target met.\n")
        for miss in self.misses:
            out.write(f"  - {miss}\n")


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result

