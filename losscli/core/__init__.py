"""Accumulate and finish: the mergeable state of an evaluation, and what is computed from it.

- compute.py: per-row losses of a batch in cache-sized blocks (the residual shared);
- accumulate.py: mergeable state per (model, loss, group): weighted sums, bootstrap
  replicate sums, paired moments; update / merge;
- finish.py: state -> results, with intervals and paired tests;
- stats.py: percentile intervals and the paired t-test (no SciPy at run time).

Nothing here reads files or prints.
"""
