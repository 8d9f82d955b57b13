"""Accumulate and finish: the mergeable state of an evaluation, and what is computed from it.

- compute.py: per-row losses of a batch in cache-sized blocks (the residual shared);
- accumulate.py: mergeable state per (model, loss, group): weighted sums, bootstrap
  replicate sums, paired moments; update / merge;
- finish.py: state -> results, with intervals and paired tests;
- stats.py: percentile intervals and the paired t-test (no SciPy at run time);
- sketch.py, diagnostics.py, diagnose.py: what ``advise`` reads (moments, the share of
  the worst 1% of rows, median and MAD, worst rows, calibration bins), mergeable too.

Nothing here reads files or prints.
"""
