"""Memory stays flat in the rows of a Parquet file (no pre-buffering of whole row groups)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PARQUET_MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    rows, path = int(sys.argv[1]), sys.argv[2]
    rng = np.random.default_rng(0)
    with pq.ParquetWriter(path, pa.schema([(n, pa.float64()) for n in ("y", "a", "b", "c", "d")])) as writer:
        for start in range(0, rows, 250_000):
            n = min(250_000, rows - start)
            y = rng.normal(size=n)
            writer.write_table(pa.table({"y": y, **{m: y + rng.normal(size=n) for m in "abcd"}}))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from losscli.engines.local import run
    from losscli.read.formats import open_source
    from losscli.request import Inputs, Request, losses_from
    run(open_source(path), Request(Inputs((path,)), losses=losses_from(["mse", "mae"])))
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
    """
)


@pytest.mark.slow
def test_parquet_peak_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    """Evaluating 4M Parquet rows needs no more memory than 1M: row groups are streamed."""
    grown = []
    for rows in (1_000_000, 4_000_000):
        done = subprocess.run(
            [sys.executable, "-c", PARQUET_MEMORY_SCRIPT, str(rows), str(tmp_path / f"m{rows}.parquet")],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        grown.append(int(done.stdout.strip()) / 1024)  # MiB above the baseline after writing the file
    small, large = grown
    assert large < small + 40, f"peak RSS grew from +{small:.0f} MiB to +{large:.0f} MiB"
