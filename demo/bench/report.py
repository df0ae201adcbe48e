"""The bench's result table, and the measurements it holds: seconds and the process's peak memory."""
import resource
import sys
import time

from .config import GOALS, SMALL_PEAK_MB, TARGETS


def peak_memory_mb():
    """The peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Table:
    """
    The result rows, each printed as it is measured (a long run shows its progress) and all at the end as one
    table, followed by the scale's goals: each with its measurement, met or missed, and for a missed one its cause
    where the bench can tell.
    """

    def __init__(self, scale, out=sys.stdout):
        self.targets = TARGETS[scale]
        self.out = out
        self.rows = []
        self.goals = {}  # goal -> (measured, cause)
        self.floors = {}  # step -> (ours, its floor) in seconds
        self.peaks = []  # (step, peak MB after it)
        self.began = time.perf_counter()

    def add(self, step, seconds, rows=None, floor=None, note=""):
        rate = f"{rows / seconds:,.0f}" if rows and seconds else ""
        floor_cells = (f"{floor:.2f}", f"{seconds / floor:.1f}x") if floor else ("", "")
        if floor:
            self.floors[step] = (seconds, floor)
        peak = peak_memory_mb()
        self.peaks.append((step, peak))
        row = (step, f"{seconds:.2f}", f"{rows:,}" if rows is not None else "", rate, f"{peak:.0f}", *floor_cells, note)
        self.rows.append(row)
        progress = f"{step}: {seconds:.2f} s" + (f", {row[2]} rows" if row[2] else "") + (f", {rate}/s" if rate else "")
        progress += f", peak {peak:.0f} MB" + (f", floor {floor_cells[0]} s ({floor_cells[1]})" if floor else "")
        self.out.write(f"[{time.perf_counter() - self.began:6.0f} s] {progress}{'; ' + note if note else ''}\n")
        self.out.flush()

    def goal(self, name, measured, cause=""):
        """The measurement of the goal `name` (config.GOALS), if this scale has that goal; `cause` if it is missed."""
        if name in self.targets:
            self.goals[name] = (measured, cause)

    def print(self):
        header = ("step", "seconds", "rows", "rows/s", "peak MB", "floor s", "ours/floor", "note")
        widths = [max(len(str(row[i])) for row in [header, *self.rows]) for i in range(len(header))]
        for row in [header, tuple("-" * width for width in widths), *self.rows]:
            self.out.write("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
        self._floor_goal()
        self._memory_goal()
        lines = [self._goal_line(name) for name in GOALS if name in self.targets]
        self.out.write("\nGoals:\n" + "".join(f"  {line}\n" for line in lines))
        missed = sum(line.startswith("missed") for line in lines)
        self.out.write(f"\n{missed} of {len(lines)} goals missed.\n" if missed else "\nEvery goal met.\n")
        self.out.flush()

    def _goal_line(self, name):
        what, unit, bound = GOALS[name]
        target = self.targets[name]
        if name not in self.goals:
            return f"not measured  {what}: goal {'>=' if bound == 'min' else '<='} {target:,} {unit}"
        measured, cause = self.goals[name]
        met = measured >= target if bound == "min" else measured <= target
        shown = f"{measured:,.0f}" if measured >= 100 else f"{measured:.1f}"
        line = f"{'met' if met else 'missed':<6} {what}: {shown} {unit} (goal {'>=' if bound == 'min' else '<='} {target:,} {unit})"
        return line if met or not cause else f"{line}; {cause}"

    def _floor_goal(self):
        ratios = {step: ours / floor for step, (ours, floor) in self.floors.items()}
        if ratios:
            worst = max(ratios.values())
            over = [f"{step} {ratio:.1f}x" for step, ratio in ratios.items() if ratio > self.targets.get("floor_ratio", worst)]
            self.goal("floor_ratio", worst, "over: " + ", ".join(over))

    def _memory_goal(self):
        """The peak against small's (config.SMALL_PEAK_MB): the step that raised it most is the cause of a miss."""
        peak = peak_memory_mb()
        rises = [(after - before, step) for (_, before), (step, after) in zip([("start", 0), *self.peaks], self.peaks)]
        rise, step = max(rises[1:] or rises)
        self.goal("peak_memory_mb", peak, f"small's peak is {SMALL_PEAK_MB} MB; '{step}' raised it most (+{rise:.0f} MB)")
        self.out.write(f"\nPeak memory of the bench process: {peak:.0f} MB (at scale small: {SMALL_PEAK_MB} MB).\n")


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result

