"""The governance report in a real browser: headless Chromium opens the file from disk, with
its network log and console captured, takes a screenshot of the data map, and prints it.

`make test` installs Debian's chromium (scripts/ensure-chromium); without a browser these
tests skip and pytest's summary says so in capitals (tests/conftest.py).
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tutela.policy.loader import load_policy
from tutela.report import governance
from tutela.report.governance_html import render_html
from tutela.workspace import Workspace

from .conftest import AS_OF

SKIP = "CHROMIUM IS NOT INSTALLED: THE GOVERNANCE REPORT WAS NOT OPENED IN A BROWSER"
WINDOW = (1400, 1300)  # the header and the whole data map of the test workspace
# Flags for a root user on a machine without network or display (see the env notes):
# no sandbox, no GPU, none of Chromium's own background requests, a fresh profile.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
    # any host name fails to resolve: a request the page makes is logged, never sent
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr", "--v=0",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip(f"{SKIP} (Debian package `chromium`; `make test` installs it)")
    return found


def _run(browser: str, page: Path, work: Path, *extra: str) -> tuple[list[str], list[str]]:
    """Open `page`; the console messages, and the URLs the page asked the network for."""
    netlog = work / "net.json"
    done = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={work / 'profile'}", f"--log-net-log={netlog}",
         *extra, page.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return console, _page_requests(netlog)


def _page_requests(netlog: Path) -> list[str]:
    """URL requests started for a document. Chromium's own background requests (which the
    flags reduce but do not end) carry the initiator "not an origin"; a file:// page's
    requests carry its opaque origin and a file:// isolation key."""
    text = netlog.read_text(encoding="utf-8")
    try:
        log: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError:  # a log cut short at exit
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    kinds = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    found = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        if kinds.get(event.get("type")) != "URL_REQUEST_START_JOB" or "url" not in params:
            continue
        if params.get("initiator") != "not an origin" or "file://" in str(
            params.get("network_isolation_key", "")
        ):
            found.append(str(params["url"]))
    return found


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.fixture(scope="module")
def report_page(report_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    loaded = load_policy(report_template.parent / "policy.yaml")
    with Workspace.open(report_template, read_only=True) as ws:
        report = governance.build(ws, loaded.policy, as_of=AS_OF)
    page = tmp_path_factory.mktemp("page") / "governance.html"
    page.write_text(render_html(report), encoding="utf-8")
    return page


def test_the_detector_sees_requests_and_console_errors(browser: str, tmp_path: Path) -> None:
    """The checks below can fail: a page that fetches an image and logs an error is caught."""
    page = tmp_path / "leaky.html"
    page.write_text(
        '<!doctype html><html><body><img src="http://tutela-test.invalid/pixel.png">'
        "<script>console.error('leaky page')</script></body></html>",
        encoding="utf-8",
    )
    console, requests = _run(browser, page, tmp_path, f"--screenshot={tmp_path / 'leaky.png'}")
    assert any("leaky page" in line for line in console)
    assert "http://tutela-test.invalid/pixel.png" in requests


def test_report_renders_offline_with_a_data_map_screenshot(
    browser: str, report_page: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "data-map.png"
    console, requests = _run(
        browser, report_page, tmp_path, f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--screenshot={shot}",
    )  # fmt: skip
    assert console == [], console  # no error, no CSP violation, nothing at all
    assert requests == [], requests
    assert _png_size(shot) == WINDOW
    # a blank page in this window compresses to ~8 kB; the header and the data map's boxes,
    # labels and flows to ~220 kB (measured with Chromium 150)
    assert shot.stat().st_size > 80_000


def test_report_prints_on_a4_landscape(browser: str, report_page: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "governance.pdf"
    console, requests = _run(
        browser, report_page, tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}"
    )
    assert console == [] and requests == []
    data = pdf.read_bytes()
    pages = re.findall(rb"/Type\s*/Page\b", data)
    boxes = {tuple(round(float(v)) for v in box.split()) for box in
             re.findall(rb"/MediaBox\s*\[([^\]]*)\]", data)}  # fmt: skip
    assert len(pages) >= 2
    assert boxes == {(0, 0, 842, 595)}  # A4 landscape, in points
