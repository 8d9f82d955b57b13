"""Running in CI: GitHub Actions annotations for failed gates, and the step summary.

On GitHub Actions (``GITHUB_ACTIONS=true``) a failed gate is also printed as an
``::error title=losscli::...`` workflow command, which GitHub shows on the run's
page; the runner reads workflow commands on stderr too, so stdout stays data.
When ``GITHUB_STEP_SUMMARY`` names a file, the results are appended to it as
Markdown, with the failed gates under the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def on_github(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    """A workflow command's message: %, CR and LF escaped as the runner unescapes them."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def error_lines(failures: Sequence[str]) -> str:
    """One ``::error`` line per failed gate."""
    return "".join(f"::error title=losscli::{escape_data(f)}\n" for f in failures)


def step_summary(source: str, table: str, failures: Sequence[str]) -> str:
    """The Markdown appended to ``$GITHUB_STEP_SUMMARY``: a heading, the table, the verdict."""
    lines = [f"### losscli: {source.replace('|', '/')}", "", table.rstrip("\n"), ""]
    if failures:
        lines += [f"**{len(failures)} gate(s) failed:**", ""]
        lines += [f"- {f.replace('|', '/')}" for f in failures]
        lines.append("")
    return "\n".join(lines) + "\n"
