"""Benchmark losscli against the bare read and its peers, as whole processes.

    python bench/run.py [--rows 10000000] [--runs 3]

Generates (once, seeded, cached in bench/data/) a regression file (target and
4 models, one with outliers) as Parquet and CSV, and a 10-class probability
file; then times, interleaved, every command several times and prints the
medians and the ratios of paired runs; writes bench/RESULTS.md. Run by hand,
on a quiet machine: absolute times drift, ratios measured side by side hold.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PY = sys.executable
LOSSCLI = str(Path(PY).parent / "losscli")
REG_MODELS = ["m1", "m2", "m3", "m4"]
CLASSES = 10


def generate(rows: int, class_rows: int) -> dict[str, Path]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as csv
    import pyarrow.parquet as pq

    DATA.mkdir(exist_ok=True)
    files = {
        "reg_parquet": DATA / f"reg_{rows}.parquet",
        "reg_csv": DATA / f"reg_{rows}.csv",
        "cls_parquet": DATA / f"cls_{class_rows}.parquet",
        "cls_csv": DATA / f"cls_{class_rows}.csv",
        "tiny": DATA / "tiny.csv",
    }
    if all(p.exists() for p in files.values()):
        return files
    rng = np.random.default_rng(2026)
    schema = pa.schema([("y", pa.float64()), *((m, pa.float64()) for m in REG_MODELS)])
    with pq.ParquetWriter(files["reg_parquet"], schema) as pw, csv.CSVWriter(files["reg_csv"], schema) as cw:
        for start in range(0, rows, 1_000_000):
            n = min(1_000_000, rows - start)
            y = rng.normal(100, 20, n)
            cols = {"y": y}
            for i, m in enumerate(REG_MODELS):
                pred = y + rng.normal(0, 5 + i, n)
                if m == "m4":  # a few large outliers
                    idx = rng.choice(n, n // 1000, replace=False)
                    pred[idx] += rng.normal(0, 500, idx.size)
                cols[m] = pred
            table = pa.table(cols, schema=schema)
            pw.write_table(table)
            cw.write_table(table)
    names = ["label"] + [f"m.c{k}" for k in range(CLASSES)]
    cschema = pa.schema([("label", pa.int64()), *((n, pa.float64()) for n in names[1:])])
    with pq.ParquetWriter(files["cls_parquet"], cschema) as pw, csv.CSVWriter(files["cls_csv"], cschema) as cw:
        for start in range(0, class_rows, 500_000):
            n = min(500_000, class_rows - start)
            label = rng.integers(0, CLASSES, n)
            logits = rng.normal(0, 1, (n, CLASSES))
            logits[np.arange(n), label] += 2
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            table = pa.table({"label": label, **{f"m.c{k}": p[:, k] for k in range(CLASSES)}}, schema=cschema)
            pw.write_table(table)
            cw.write_table(table)
    files["tiny"].write_text("y,a,b\n" + "".join(f"{i},{i + 0.5},{i - 1}\n" for i in range(10)))
    return files


REG_LOSSES = "mse,rmse,mae,huber,log_cosh,quantile"

DUCKDB_TINY = """
import sys, duckdb
sql = "SELECT avg((a - y) * (a - y)), avg((b - y) * (b - y)) FROM read_csv_auto('{}')"
print(duckdb.sql(sql.format(sys.argv[1])).fetchall())
"""

POLARS_TINY = """
import sys, polars as pl
df = pl.read_csv(sys.argv[1])
print(df.select(((pl.col('a') - pl.col('y')) ** 2).mean(), ((pl.col('b') - pl.col('y')) ** 2).mean()))
"""

# Columns become NumPy arrays over Arrow's buffers (np.frombuffer), as losscli's
# read/arrow_numpy.py does: np.asarray(array) and to_numpy() import pandas on their first
# call (0.2-0.4 s), which no floor should carry. The benchmark files have no nulls. Floors
# ask for one OpenBLAS thread, as losscli does: its spinning threads cost ~50 ms at import.
ONE_BLAS = "import os; os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')"
FLOOR = f"""
{ONE_BLAS}
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq, pyarrow.csv as csv
def view(c):
    dtype = np.float64 if c.type == pa.float64() else np.int64
    return np.frombuffer(c.buffers()[1], dtype=dtype, count=len(c), offset=c.offset * 8)
path = sys.argv[1]
table = pq.read_table(path) if path.endswith('.parquet') else csv.read_csv(path)
arrays = [view(chunk) for column in table.columns for chunk in column.chunks]
print(sum(len(a) for a in arrays))
"""

# The same read as losscli's, streaming, with nothing computed: what no evaluation on pyarrow
# can go below (Parquet in 64k-row batches through a 64 KiB buffer; CSV blocks of 1 MiB).
STREAM_FLOOR = f"""
{ONE_BLAS}
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq, pyarrow.csv as csv
def view(c):
    dtype = np.float64 if c.type == pa.float64() else np.int64
    return np.frombuffer(c.buffers()[1], dtype=dtype, count=len(c), offset=c.offset * 8)
path = sys.argv[1]
if path.endswith('.parquet'):
    batches = pq.ParquetFile(path, buffer_size=1 << 16, pre_buffer=False).iter_batches(batch_size=1 << 16)
else:
    batches = csv.open_csv(path, read_options=csv.ReadOptions(block_size=1 << 20))
print(sum(len(view(c)) for b in batches for c in b.columns))
"""

PANDAS_REG = """
import sys, numpy as np, pandas as pd
from sklearn.metrics import mean_squared_error, mean_absolute_error, mean_pinball_loss
path = sys.argv[1]
df = pd.read_parquet(path) if path.endswith('.parquet') else pd.read_csv(path)
for m in ['m1', 'm2', 'm3', 'm4']:
    y, p = df['y'].to_numpy(), df[m].to_numpy()
    r = np.abs(p - y)
    mse = mean_squared_error(y, p); rmse = np.sqrt(mse); mae = mean_absolute_error(y, p)
    huber = np.where(r <= 1, 0.5 * r * r, r - 0.5).mean()
    log_cosh = (r + np.log1p(np.exp(-2 * r)) - np.log(2)).mean()
    q = mean_pinball_loss(y, p, alpha=0.5)
    print(m, mse, rmse, mae, huber, log_cosh, q)
"""

POLARS_REG = """
import sys, math, polars as pl
path = sys.argv[1]
lf = pl.scan_parquet(path) if path.endswith('.parquet') else pl.scan_csv(path)
exprs = []
for m in ['m1', 'm2', 'm3', 'm4']:
    r = (pl.col(m) - pl.col('y')).abs()
    exprs += [
        ((pl.col(m) - pl.col('y')) ** 2).mean().alias(m + '_mse'),
        r.mean().alias(m + '_mae'),
        pl.when(r <= 1).then(0.5 * r * r).otherwise(r - 0.5).mean().alias(m + '_huber'),
        (r + (-2 * r).exp().log1p() - math.log(2)).mean().alias(m + '_logcosh'),
        (0.5 * r).mean().alias(m + '_quantile'),
    ]
print(lf.select(exprs).collect())
"""

DUCKDB_REG = """
import sys, duckdb
path = sys.argv[1]
src = f"read_parquet('{path}')" if path.endswith('.parquet') else f"read_csv_auto('{path}')"
parts = []
for m in ['m1', 'm2', 'm3', 'm4']:
    r = f"abs({m} - y)"
    parts += [f"avg(({m} - y) * ({m} - y))", f"sqrt(avg(({m} - y) * ({m} - y)))", f"avg({r})",
              f"avg(CASE WHEN {r} <= 1 THEN 0.5 * {r} * {r} ELSE {r} - 0.5 END)",
              f"avg({r} + ln(1 + exp(-2 * {r})) - ln(2))", f"avg(0.5 * {r})"]
print(duckdb.sql(f"SELECT {', '.join(parts)} FROM {src}").fetchall())
"""

PANDAS_CLS = """
import sys, numpy as np, pandas as pd
from sklearn.metrics import log_loss
path = sys.argv[1]
df = pd.read_parquet(path) if path.endswith('.parquet') else pd.read_csv(path)
p = df[[f'm.c{k}' for k in range(10)]].to_numpy()
print(log_loss(df['label'], p, labels=list(range(10))))
"""

POLARS_CLS = """
import sys, polars as pl
path = sys.argv[1]
lf = pl.scan_parquet(path) if path.endswith('.parquet') else pl.scan_csv(path)
expr = pl.lit(0.0)
for k in range(10):
    expr = expr + pl.when(pl.col('label') == k).then(pl.col(f'm.c{k}')).otherwise(0.0)
print(lf.select((-(expr.clip(2.220446049250313e-16, 1 - 2.220446049250313e-16).log())).mean()).collect())
"""

DUCKDB_CLS = """
import sys, duckdb
path = sys.argv[1]
src = f"read_parquet('{path}')" if path.endswith('.parquet') else f"read_csv_auto('{path}')"
case = " ".join(f'WHEN label = {k} THEN "m.c{k}"' for k in range(10))
eps = 2.220446049250313e-16
print(duckdb.sql(f"SELECT avg(-ln(greatest(least(CASE {case} END, 1 - {eps}), {eps}))) FROM {src}").fetchall())
"""


def commands(files: dict[str, Path]) -> dict[str, dict[str, list[str]]]:
    def py(code: str, path: Path) -> list[str]:
        return [PY, "-c", code, str(path)]

    groups: dict[str, dict[str, list[str]]] = {}
    for kind in ("parquet", "csv"):
        reg, cls = files[f"reg_{kind}"], files[f"cls_{kind}"]
        groups[f"regression {kind}"] = {
            "losscli": [LOSSCLI, "eval", str(reg), "-l", REG_LOSSES, "-q", "-f", "csv"],
            "floor (pyarrow read)": py(FLOOR, reg),
            "pyarrow streaming read, nothing computed": py(STREAM_FLOOR, reg),
            "pandas+sklearn": py(PANDAS_REG, reg),
            "polars": py(POLARS_REG, reg),
            "duckdb": py(DUCKDB_REG, reg),
        }
        groups[f"10-class {kind}"] = {
            "losscli": [LOSSCLI, "eval", str(cls), "-l", "cce", "-t", "label", "-q", "-f", "csv"],
            "floor (pyarrow read)": py(FLOOR, cls),
            "pyarrow streaming read, nothing computed": py(STREAM_FLOOR, cls),
            "pandas+sklearn": py(PANDAS_CLS, cls),
            "polars": py(POLARS_CLS, cls),
            "duckdb": py(DUCKDB_CLS, cls),
        }
    tiny = str(files["tiny"])
    groups["start-up"] = {
        "floor (import numpy, typer)": [PY, "-c", f"{ONE_BLAS}; import numpy, typer"],
        "import numpy, pyarrow, typer (no eval of a file avoids it)": [
            PY,
            "-c",
            f"{ONE_BLAS}; import numpy, pyarrow, typer",
        ],
        "losscli --help": [LOSSCLI, "--help"],
        "losscli losses": [LOSSCLI, "losses"],
        "losscli eval (10 rows)": [LOSSCLI, "eval", tiny, "-q", "-f", "csv"],
        "import numpy, pyarrow.csv (what a CSV eval cannot avoid)": [
            PY,
            "-c",
            f"{ONE_BLAS}; import numpy, pyarrow.csv",
        ],
        "duckdb (10 rows)": py(DUCKDB_TINY, files["tiny"]),
        "polars (10 rows)": py(POLARS_TINY, files["tiny"]),
    }
    return groups


# As a user's shell runs them: bytecode is written and reused. Some sandboxes set
# PYTHONDONTWRITEBYTECODE, which makes every run compile losscli's modules again.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def time_once(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, check=False, env=ENV)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd[:3])}...\n{done.stderr.decode()[-2000:]}")
    return elapsed


def measure(groups: dict[str, dict[str, list[str]]], runs: int, skip: set[str]) -> dict[str, dict[str, list[float]]]:
    times: dict[str, dict[str, list[float]]] = {
        g: {name: [] for name in cmds if name not in skip} for g, cmds in groups.items()
    }
    for cmds in groups.values():  # one untimed run each: the page cache and the bytecode are warm
        for name, cmd in cmds.items():
            if name not in skip:
                time_once(cmd)
    for r in range(runs):
        for group, cmds in groups.items():
            for name, cmd in cmds.items():  # interleaved: one run of each, then again
                if name in skip:
                    continue
                times[group][name].append(time_once(cmd))
        print(f"run {r + 1}/{runs} done", file=sys.stderr)
    return times


def report(times: dict[str, dict[str, list[float]]], rows: int, class_rows: int) -> str:
    lines = [
        "# losscli benchmark",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores ({_cpu()}), Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.1f} when the report was written (the machine is shared: "
        "absolute times drift, the ratios of interleaved runs are what to read).",
        f"Data: regression {rows:,} rows x (target + 4 models); 10-class {class_rows:,} rows x 10 probabilities.",
        f"Whole processes, interleaved, {len(next(iter(next(iter(times.values())).values())))} runs each; "
        "median seconds, and the median of per-run ratios to the first floor line of the group.",
        "",
    ]
    for group, by_name in times.items():
        floor_name = next(n for n in by_name if n.startswith("floor"))
        floor = by_name[floor_name]
        lines += [f"## {group}", "", "| command | median s | ratio to floor |", "|---|---:|---:|"]
        for name, ts in by_name.items():
            ratio = statistics.median(t / f for t, f in zip(ts, floor, strict=True))
            lines.append(f"| {name} | {statistics.median(ts):.3f} | {ratio:.2f}x |")
        if "losscli" in by_name:
            mine = by_name["losscli"]
            peers = [n for n in by_name if n not in ("losscli", floor_name)]
            faster = ", ".join(
                f"{n} {statistics.median(p / m for p, m in zip(by_name[n], mine, strict=True)):.2f}x" for n in peers
            )
            lines += ["", f"losscli is faster than each peer by (median of paired ratios): {faster}."]
        tiny = by_name.get("losscli eval (10 rows)")
        if tiny:
            paired = ", ".join(
                f"{n} {statistics.median(t / o for t, o in zip(tiny, by_name[n], strict=True)):.2f}x"
                for n in by_name
                if n.startswith(("duckdb", "polars", "import numpy, pyarrow"))
            )
            lines += ["", f"The 10-row eval takes, of each of these (median of paired ratios): {paired}."]
        lines.append("")
    return "\n".join(lines)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--class-rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip", action="append", default=[], help="leave out a command by name")
    args = parser.parse_args()
    if not Path(LOSSCLI).exists() or shutil.which(PY) is None:
        raise SystemExit("run with the project's venv: .venv/bin/python bench/run.py")
    files = generate(args.rows, args.class_rows)
    text = report(measure(commands(files), args.runs, set(args.skip)), args.rows, args.class_rows)
    print(text)
    results = HERE / "RESULTS.md"
    old = results.read_text() if results.exists() else ""
    # Sections written by other scripts or by hand (<!-- scale --> ... <!-- /scale -->) are kept.
    kept = "".join(m.group(0) + "\n\n" for m in re.finditer(r"<!-- (\w+) -->.*?<!-- /\1 -->", old, re.S))
    results.write_text(text + "\n" + ("\n" + kept.rstrip("\n") + "\n" if kept else ""))


if __name__ == "__main__":
    main()
