"""Render: results -> ranking, best values, gates, and text or files.

- summary.py: ranking, best values, the reproducibility signature and meta;
- gates.py: --fail-above and --fail-if-worse;
- render.py: a Rich table, CSV, TSV, JSON, JSONL, Markdown;
- writers.py: atomic --output that never replaces an input, and the --per-row streams;
- catalogue.py: the loss registry as text (``losscli losses``);
- results.schema.json: the JSON output's schema.
"""
