from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


@pytest.fixture(autouse=True)
def _fixed_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich renders at a fixed width and without colour, whatever runs the tests."""
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No config file above the checkout, LOSSCLI_* variable or CI runner changes what a test sees
    (tests/test_config.py and tests/test_ci.py set them on purpose)."""
    monkeypatch.setenv("LOSSCLI_NO_CONFIG", "1")
    for name in ("LOSSCLI_FORMAT", "LOSSCLI_DIGITS", "LOSSCLI_ENGINE", "LOSSCLI_SCHEDULER"):
        monkeypatch.delenv(name, raising=False)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sample() -> Path:
    return SAMPLE
