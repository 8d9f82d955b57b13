"""Read and resolve: files (or a DataFrame) become per-model NumPy arrays.

- formats: CSV/TSV (compressed or not), Parquet, JSON Lines, Arrow IPC, stdin
  (formats.py, delimited.py, parquet.py, jsonl.py, ipc.py; source.py is the
  common Source: a schema, a sample and a stream of record batches);
- layouts: one file per model, a separate truth file, the long layout, all
  reshaped to the wide one (reshape.py, inputs.py);
- roles and the plan: which column is the target, each model's predictions,
  the weight, the id, the groups; the task and default losses (layout.py, plan.py);
- extraction and checks: a batch -> NumPy arrays, every cell checked (extract.py,
  targets.py, checks.py, arrow_numpy.py), read one batch ahead (prefetch.py).
"""
