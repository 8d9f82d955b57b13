"""The sample reports in a real browser: headless Chromium (Debian's ``chromium`` package)
runs the page's script under its Content-Security-Policy, draws it at a phone's width and
prints it, while every request it would make goes to a trap. Skipped without Chromium.

    apt-get install chromium && .venv/bin/pytest tests/test_html_browser.py
    LOSSCLI_SCREENSHOTS=docs .venv/bin/pytest tests/test_html_browser.py   # also refresh the README's picture
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from losscli.cli import app

from .conftest import SAMPLE

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)"),
    pytest.mark.slow,
]

SAMPLES = {
    "house_prices": [str(SAMPLE / "house_prices.csv"), "-l", "mse,mae,huber", "--baseline", "linear", "--ci", "0.95"],
    "house_prices_by_region": [
        str(SAMPLE / "house_prices.csv"),
        "-l",
        "mae",
        "--by",
        "region",
        "--fail-above",
        "mae=20",
    ],
    "churn": [str(SAMPLE / "churn.parquet"), "-l", "bce,brier", "--baseline", "logreg"],
    "iris": [str(SAMPLE / "iris_probs.csv")],
}


@contextlib.contextmanager
def request_trap() -> Iterator[tuple[int, list[bytes]]]:
    """A proxy that answers nothing and remembers every request sent to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                with contextlib.suppress(OSError):
                    seen.append(conn.recv(200))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], seen
    finally:
        stop.set()
        thread.join()
        server.close()


# Chromium's own service traffic (clock, component updates, sign-in), which no flag fully
# silences; a page's request to any other host is caught.
BROWSER_HOSTS = {"clients2.google.com", "update.googleapis.com", "accounts.google.com"}


def page_requests(seen: list[bytes]) -> list[bytes]:
    """The trapped requests minus the browser's own: ``CONNECT host:443`` or ``GET http://host/...``."""
    out = []
    for request in seen:
        if not request.strip():
            continue  # a connection the browser opened and closed without asking for anything (a preconnect)
        words = request.split(b" ")
        target = words[1].decode("ascii", "replace") if len(words) > 1 else ""
        host = target.removeprefix("http://").split("/")[0].split(":")[0]
        if host not in BROWSER_HOSTS:
            out.append(request)
    return out


def chromium(page: Path, profile: Path, port: int, *args: str) -> str:
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--disable-client-side-phishing-detection",
            "--disable-default-apps",
            "--disable-domain-reliability",
            "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
            "--no-default-browser-check",
            "--no-pings",
            f"--proxy-server=http://127.0.0.1:{port}",
            "--proxy-bypass-list=<-loopback>",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_trap_catches_a_page_that_fetches(tmp_path: Path) -> None:
    """Without this, an empty trap would prove nothing."""
    page = tmp_path / "fetches.html"
    page.write_text('<!DOCTYPE html><img src="http://example.invalid/x.png">')
    with request_trap() as (port, seen):
        chromium(page, tmp_path / "profile", port, "--dump-dom")
    assert any(b"example.invalid" in request for request in page_requests(seen))


@pytest.mark.parametrize("name", list(SAMPLES))
def test_sample_reports_render_offline(tmp_path: Path, name: str) -> None:
    page = tmp_path / f"{name}.html"
    result = CliRunner().invoke(app, ["eval", *SAMPLES[name], "-o", str(page), "-q"])
    assert result.exit_code in (0, 1), result.output
    html = page.read_text()
    with request_trap() as (port, seen):
        dom = chromium(page, tmp_path / "profile", port, "--dump-dom")
        shot = tmp_path / f"{name}-phone.png"
        chromium(page, tmp_path / "profile", port, f"--screenshot={shot}", "--window-size=390,1600")
        pdf = tmp_path / f"{name}.pdf"
        chromium(page, tmp_path / "profile", port, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert page_requests(seen) == [], f"the page made requests: {page_requests(seen)}"
    # The script ran (it is allowed by its hash alone) and turned every heading into a button.
    tables = html.count('<table class="sortable">')
    assert tables >= 1
    assert dom.count('data-sortable="ready"') == tables
    assert dom.count('<th scope="col"') == dom.count('<button type="button"')
    assert dom.count("<svg") == html.count("<svg")
    assert shot.stat().st_size > 10_000
    assert pdf.read_bytes().startswith(b"%PDF")
    folder = os.environ.get("LOSSCLI_SCREENSHOTS")
    if folder and name == "house_prices":
        _readme_screenshot(tmp_path, Path(folder).resolve() / "house_prices_report.png")


def _readme_screenshot(tmp_path: Path, target: Path) -> None:
    """The top of the house-prices report as the README's command writes it, in few colours
    so the PNG stays small."""
    from PIL import Image

    (tmp_path / "sample_data").mkdir()
    shutil.copy(SAMPLE / "house_prices.csv", tmp_path / "sample_data")
    command = ["eval", "sample_data/house_prices.csv", *SAMPLES["house_prices"][1:], "-o", "report.html"]
    subprocess.run([sys.executable, "-m", "losscli", *command], cwd=tmp_path, check=True, timeout=120)
    page = tmp_path / "report.html"
    raw = tmp_path / "readme.png"
    with request_trap() as (port, _):
        chromium(page, tmp_path / "profile", port, f"--screenshot={raw}", "--window-size=900,1500")
    with Image.open(raw) as image:
        image.convert("RGB").quantize(colors=32).save(target, optimize=True)
