"""Execution engines: how partitions are reduced to mergeable state.

The local engine is ``evaluation.run``. ``engines.dask`` reduces each Parquet
file on a Dask worker and merges the states in a tree; both finish with the
same code, so they give the same numbers.
"""
