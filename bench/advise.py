"""Time and peak memory of ``losscli advise`` against ``losscli eval`` and the bare read.

    .venv/bin/python bench/advise.py [--rows 10000000] [--runs 3]

Generates (once, seeded, cached in bench/data/) a Parquet file of a target and 4
regression models (one with outliers), and a binary file of 3 probability models;
runs each command as a whole process, interleaved, and reports the median wall
time and the peak resident memory of the process (ru_maxrss). Writes
bench/ADVISE.md. Memory must stay flat as rows grow: run with --rows 1000000 and
--rows 10000000 and compare.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PY = sys.executable
LOSSCLI = str(Path(PY).parent / "losscli")

FLOOR = """
import sys, numpy as np, pyarrow.parquet as pq
for batch in pq.ParquetFile(sys.argv[1]).iter_batches(batch_size=65536):
    arrays = [np.asarray(c.to_numpy()) for c in batch.columns]
"""

# Runs a command and prints its peak resident memory in KiB (Linux ru_maxrss).
PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def generate(rows: int) -> dict[str, Path]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    DATA.mkdir(exist_ok=True)
    files = {"regression": DATA / f"advise_reg_{rows}.parquet", "binary": DATA / f"advise_bin_{rows}.parquet"}
    if all(p.exists() for p in files.values()):
        return files
    rng = np.random.default_rng(2026)
    with (
        pq.ParquetWriter(
            files["regression"], pa.schema([(c, pa.float64()) for c in ("y", "m1", "m2", "m3", "m4")])
        ) as reg,
        pq.ParquetWriter(
            files["binary"], pa.schema([("y", pa.int64()), *((m, pa.float64()) for m in ("a", "b", "c"))])
        ) as cls,
    ):
        for start in range(0, rows, 1_000_000):
            n = min(1_000_000, rows - start)
            y = rng.normal(100, 20, n)
            cols = {"y": y, **{f"m{i}": y + rng.normal(0, 4 + i, n) for i in range(1, 5)}}
            idx = rng.choice(n, n // 1000, replace=False)
            cols["m4"][idx] += rng.normal(0, 500, idx.size)
            reg.write_table(pa.table(cols))
            p = rng.uniform(0.02, 0.98, n)
            label = (rng.uniform(size=n) < p).astype(np.int64)
            sharp = 1 / (1 + np.exp(-3 * np.log(p / (1 - p))))
            cls.write_table(pa.table({"y": label, "a": p, "b": sharp, "c": np.full(n, label.mean())}))
    return files


def commands(files: dict[str, Path]) -> dict[str, dict[str, list[str]]]:
    return {
        kind: {
            "losscli advise": [LOSSCLI, "advise", str(path), "-q", "-f", "json"],
            "losscli eval (default losses)": [LOSSCLI, "eval", str(path), "-q", "-f", "csv"],
            "floor (pyarrow read, batches)": [PY, "-c", FLOOR, str(path)],
        }
        for kind, path in files.items()
    }


def run_once(cmd: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run([PY, "-c", PEAK, *cmd], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd[:3])}...\n{done.stderr[-2000:]}")
    return elapsed, int(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    groups = commands(generate(args.rows))
    times: dict[str, dict[str, list[tuple[float, int]]]] = {g: {n: [] for n in c} for g, c in groups.items()}
    for r in range(args.runs):
        for group, cmds in groups.items():
            for name, cmd in cmds.items():
                times[group][name].append(run_once(cmd))
        print(f"run {r + 1}/{args.runs} done", file=sys.stderr)
    lines = [
        "# losscli advise: time and memory",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Data: {args.rows:,} rows of Parquet; regression: target + 4 models (one with outliers); "
        "binary: 3 probability models. Whole processes, interleaved, "
        f"{args.runs} runs; median wall seconds, median of per-run ratios to the bare read, "
        "and peak resident memory (MiB). Timings on a shared machine are noisy; ratios of runs side "
        "by side hold better.",
        "",
    ]
    for group, by_name in times.items():
        lines += [f"## {group}", "", "| command | median s | ratio to floor | peak MiB |", "|---|---:|---:|---:|"]
        floor = next(runs for name, runs in by_name.items() if name.startswith("floor"))
        for name, runs in by_name.items():
            ratio = statistics.median(t / f for (t, _), (f, _) in zip(runs, floor, strict=True))
            seconds = statistics.median(t for t, _ in runs)
            lines.append(f"| {name} | {seconds:.2f} | {ratio:.2f}x | {max(m for _, m in runs) / 1024:.0f} |")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    (HERE / f"ADVISE_{args.rows}.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
