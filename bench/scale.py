"""How losscli scales in each dimension a user grows: rows, groups, models, replicates.

    .venv/bin/python bench/scale.py [--quick] [--write] [--only replicates,ci]

For each dimension, generates (seeded, cached in bench/data/) Parquet files of
growing size, runs `losscli eval` on each as a whole process, and prints the
wall time, the peak RSS and the growth exponent k (time ~ size^k: 1 is linear)
fitted over the sizes, and between the last two. Also the cost of --ci against
the same run without it, and per-row JSONL against per-row CSV. With --write,
the tables replace the scaling section of bench/RESULTS.md (with --only, paste
the parts you ran into it instead).
A run over --timeout seconds is stopped and shown as such.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
LOSSCLI = str(Path(sys.executable).parent / "losscli")
BEGIN, END = "<!-- scale -->", "<!-- /scale -->"
# The parts --only can pick: the four dimensions, the --ci ratios, and per-row JSONL vs CSV.
DIMENSIONS = ("rows", "groups", "models", "replicates", "ci", "jsonl")


@dataclass
class Timing:
    seconds: float
    peak_mb: float
    timed_out: bool = False


def run(cmd: list[str], timeout: float) -> Timing:
    """Wall time and peak RSS of one whole process (os.wait4 gives the child's own rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            return Timing(timeout, usage.ru_maxrss / 1024, timed_out=True)
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
    return Timing(elapsed, usage.ru_maxrss / 1024)


def table(rows: int, models: int, groups: int = 0) -> Path:
    """A Parquet file: target y, ``models`` prediction columns, and a group column g when groups > 0.

    Written by a child process: a child's peak RSS counts its parent's at the
    fork (Linux keeps it across exec), so this process must stay small.
    """
    path = DATA / f"scale_{rows}_{models}_{groups}.parquet"
    if not path.exists():
        subprocess.run([sys.executable, __file__, "--make", str(rows), str(models), str(groups)], check=True)
    return path


def _make(rows: int, models: int, groups: int, seed: int = 0) -> Path:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    DATA.mkdir(exist_ok=True)
    path = DATA / f"scale_{rows}_{models}_{groups}.parquet"
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    names = [f"m{i}" for i in range(models)]
    fields = [("y", pa.float64()), *((n, pa.float64()) for n in names)]
    if groups:
        fields.append(("g", pa.int64()))
    # Row groups hold the same rows whatever the model count (up to 40M cells per write): with a
    # fixed cell budget per group instead, 4x the columns made 4x the row groups too, and the
    # model dimension measured column chunks growing as columns squared.
    step = max(1, min(rows, 40_000_000 // max(models, 1)))
    # groups >= rows: one group per row (as --by id), in shuffled order.
    distinct = rng.permutation(rows) if groups >= rows else None
    with pq.ParquetWriter(path, pa.schema(fields)) as writer:
        for start in range(0, rows, step):
            n = min(step, rows - start)
            y = rng.normal(size=n)
            cols = {"y": y, **{m: y + rng.normal(0, 1 + (i % 4), n) for i, m in enumerate(names)}}
            if distinct is not None:
                cols["g"] = distinct[start : start + n]
            elif groups:
                cols["g"] = rng.integers(0, groups, n)
            writer.write_table(pa.table(cols, schema=pa.schema(fields)), row_group_size=250_000)
    return path


def exponent(sizes: list[int], times: list[float]) -> tuple[float, float]:
    """Least-squares slope of log time on log size, and the slope between the last two sizes."""
    xs, ys = [math.log(s) for s in sizes], [math.log(max(t, 1e-3)) for t in times]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    fit = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    last = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    return fit, last


def dimension(name: str, sizes: list[int], command: object, runs: int, timeout: float) -> list[str]:
    """Time each size (best of ``runs``, interleaved) and format a table."""
    results: dict[int, list[Timing]] = {s: [] for s in sizes}
    for _ in range(runs):
        for size in sizes:
            if results[size] and results[size][-1].timed_out:
                continue
            results[size].append(run(command(size), timeout))  # type: ignore[operator]
    lines = [f"### {name}", "", "| size | median s | peak RSS MB |", "|---:|---:|---:|"]
    med = {s: statistics.median(t.seconds for t in ts) for s, ts in results.items()}
    for size, ts in results.items():
        shown = f">{timeout:.0f} (stopped)" if ts[-1].timed_out else f"{med[size]:.2f}"
        lines.append(f"| {size:,} | {shown} | {max(t.peak_mb for t in ts):.0f} |")
    done = [s for s in sizes if not results[s][-1].timed_out]
    if len(done) >= 2:
        fit, last = exponent(done, [med[s] for s in done])
        growth = f"k = {fit:.2f} over all sizes, {last:.2f} between the last two"
        lines += ["", f"Growth exponent (time ~ size^k): {growth}."]
    print("\n".join(lines), file=sys.stderr)
    return [*lines, ""]


def ratio(name: str, a: list[str], b: list[str], runs: int, timeout: float) -> list[str]:
    """The median of paired ratios time(a) / time(b), interleaved."""
    pairs = []
    for _ in range(runs):
        ta, tb = run(a, timeout), run(b, timeout)
        pairs.append((ta.seconds, tb.seconds, ta.peak_mb))
    r = statistics.median(x / y for x, y, _ in pairs)
    line = (
        f"| {name} | {statistics.median(x for x, _, _ in pairs):.2f} | "
        f"{statistics.median(y for _, y, _ in pairs):.2f} | {r:.2f}x | {max(p for _, _, p in pairs):.0f} |"
    )
    print(line, file=sys.stderr)
    return [line]


def ci_ratios(rows: int, eval_: list[str], quiet: list[str], runs: int, timeout: float) -> list[str]:
    """--ci against the same run without it: the bootstrap (B=1000), the t interval, and B=100000's memory."""
    ci_file = str(table(rows, 4))
    plain = [*eval_, ci_file, "-l", "mse,mae", *quiet]
    out = ratio(
        f"--ci 0.95, B=1000 vs no --ci ({rows:,} rows x 4 models x 2 losses)",
        [*plain, "--ci", "0.95"],
        plain,
        runs,
        timeout * 3,
    )
    out += ratio(
        f"--ci 0.95 --ci-method t vs no --ci ({rows:,} rows x 4 models x 2 losses)",
        [*plain, "--ci", "0.95", "--ci-method", "t"],
        plain,
        runs,
        timeout,
    )
    small = str(table(10_000, 2))
    out += ratio(
        "--bootstrap 100000 on 10,000 rows vs B=1000",
        [*eval_, small, "-l", "mse", "--ci", "0.95", "--bootstrap", "100000", *quiet],
        [*eval_, small, "-l", "mse", "--ci", "0.95", *quiet],
        1,
        timeout * 3,
    )
    return out


def group_ratios(quick: bool, runs: int, timeout: float) -> list[str]:
    """--by with many groups, and with one group per row, against the same run without --by."""
    rows = 200_000 if quick else 1_000_000
    many = 20_000 if quick else 200_000
    base = [LOSSCLI, "eval", "-l", "mse,mae", "-q", "-f", "csv"]
    out = ratio(
        f"--by with {many:,} groups vs no --by ({rows:,} rows x 2 models x 2 losses, CSV out)",
        [*base, str(table(rows, 2, many)), "--by", "g"],
        [*base, str(table(rows, 2, many))],
        runs,
        timeout,
    )
    out += ratio(
        f"--by with one group per row ({rows:,} groups) vs no --by (CSV out)",
        [*base, str(table(rows, 2, rows)), "--by", "g"],
        [*base, str(table(rows, 2, rows))],
        runs,
        timeout,
    )
    out += ratio(
        f"--by with one group per row ({rows:,} groups), terminal table vs no --by",
        [*base[:-2], "-f", "table", str(table(rows, 2, rows)), "--by", "g"],
        [*base, str(table(rows, 2, rows))],
        runs,
        timeout,
    )
    return out


def main() -> None:
    if sys.argv[1:2] == ["--make"]:
        _make(*(int(a) for a in sys.argv[2:5]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a minute or two)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--write", action="store_true", help="replace the scaling section of bench/RESULTS.md")
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default=set(DIMENSIONS),
        help=f"comma-separated parts to run, of {','.join(DIMENSIONS)} (default: all)",
    )
    args = parser.parse_args()
    if args.only - set(DIMENSIONS):
        parser.error(f"--only takes {','.join(DIMENSIONS)}, not {','.join(sorted(args.only - set(DIMENSIONS)))}")
    if args.write and args.only != set(DIMENSIONS):
        parser.error("--write replaces the whole scaling section: run every part, or paste the parts you ran")
    q, only = args.quick, args.only
    eval_ = [LOSSCLI, "eval"]
    quiet = ["-q", "-f", "csv"]
    out = [
        "## Scaling (bench/scale.py)",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}. "
        f"Whole processes, median of {args.runs} interleaved runs; Parquet input; losses mse and mae.",
        "",
    ]
    if "rows" in only:
        row_sizes = [250_000, 500_000, 1_000_000] if q else [1_000_000, 2_000_000, 4_000_000, 8_000_000]
        out += dimension(
            "rows (4 models)",
            row_sizes,
            lambda n: [*eval_, str(table(n, 4)), "-l", "mse,mae", *quiet],
            args.runs,
            args.timeout,
        )
    if "groups" in only:
        group_sizes = [100, 1_000, 10_000] if q else [100, 1_000, 10_000, 50_000, 200_000, 1_000_000]
        group_rows = 200_000 if q else 1_000_000
        out += dimension(
            f"groups (--by, {group_rows:,} rows, 2 models)",
            group_sizes,
            lambda g: [*eval_, str(table(group_rows, 2, g)), "-l", "mse,mae", "--by", "g", *quiet],
            args.runs,
            args.timeout,
        )
    if "models" in only:
        model_sizes = [250, 1_000, 2_500] if q else [1_000, 2_500, 5_000, 20_000]
        out += dimension(
            "model columns (2,000 rows)",
            model_sizes,
            lambda m: [*eval_, str(table(2_000, m)), "-t", "y", "-l", "mse", *quiet],
            args.runs,
            args.timeout,
        )
    rep_rows = 100_000 if q else 1_000_000
    if "replicates" in only:
        rep_sizes = [100, 300, 1_000] if q else [100, 300, 1_000, 3_000]
        out += dimension(
            f"bootstrap replicates (--ci 0.95 --bootstrap B, {rep_rows:,} rows, 4 models)",
            rep_sizes,
            lambda b: [*eval_, str(table(rep_rows, 4)), "-l", "mse,mae", "--ci", "0.95", "--bootstrap", str(b), *quiet],
            args.runs,
            args.timeout,
        )
    if only & {"ci", "jsonl", "groups", "models"}:
        out += [
            "### Ratios (median of paired runs)",
            "",
            "| comparison | s (first) | s (second) | ratio | peak RSS MB (first) |",
            "|---|---:|---:|---:|---:|",
        ]
    if "groups" in only:
        out += group_ratios(q, args.runs, args.timeout)
    if "models" in only:
        wide, narrow = (2_500, 250) if q else (20_000, 5_000)
        out += ratio(
            f"{wide:,} model columns vs {narrow:,} (2,000 rows, mse)",
            [*eval_, str(table(2_000, wide)), "-t", "y", "-l", "mse", *quiet],
            [*eval_, str(table(2_000, narrow)), "-t", "y", "-l", "mse", *quiet],
            args.runs,
            args.timeout,
        )
    if "ci" in only:
        out += ci_ratios(rep_rows, eval_, quiet, args.runs, args.timeout)
    if "jsonl" in only:
        per_row = str(table(1_000_000 if not q else 250_000, 4))
        out += ratio(
            "--per-row JSONL vs --per-row CSV",
            [*eval_, per_row, "-l", "mse", "-q", "--per-row", "-f", "jsonl"],
            [*eval_, per_row, "-l", "mse", "-q", "--per-row", "-f", "csv"],
            args.runs,
            args.timeout,
        )
    text = "\n".join(out).rstrip() + "\n"
    print(text)
    if args.write:
        results = HERE / "RESULTS.md"
        old = results.read_text() if results.exists() else ""
        block = f"{BEGIN}\n{text}{END}\n"
        if BEGIN in old and END in old:
            new = old[: old.index(BEGIN)] + block + old[old.index(END) + len(END) + 1 :]
        else:
            new = old.rstrip() + "\n\n" + block
        results.write_text(new)


if __name__ == "__main__":
    main()
