"""The web app in a real Chromium (Debian's /usr/bin/chromium driven by Playwright for Python; no
browser is ever downloaded), against ``nianbao serve`` started on a free loopback port.

Skipped when Chromium or Playwright is missing, unless NIANBAO_REQUIRE_BROWSER=1 (set by .ci/run),
when the missing browser fails the tests instead. Every page must log no console error and ask
no host but 127.0.0.1. With NIANBAO_SCREENSHOTS=1 the screenshots go to docs/images/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from web_helpers import ARITHMETIC, EXAMPLES, ROOT, SHIMEN_2021, SHIMEN_2022, backend, seed, zip_bomb

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
NEW = EXAMPLES / "00000_安远市交通运输局2023.txt"
QINGHE = EXAMPLES / "00006_清河区人民政府2021.md"
REQUIRED = os.environ.get("NIANBAO_REQUIRE_BROWSER") == "1"


def _browser_or_skip() -> Any:
    missing = ""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "Playwright for Python is not installed (pip install playwright; no browser download needed)"
    if not missing and not Path(CHROMIUM).exists():
        missing = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if missing:
        if REQUIRED:
            pytest.fail(f"NIANBAO_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    _browser_or_skip()
    folder = tmp_path_factory.mktemp("web")
    b = backend(ARITHMETIC, SHIMEN_2021, SHIMEN_2022, folder=folder)
    if shutil.which("soffice"):  # a PDF original, for the page image with the cell's box
        from nianbao import service

        pdf = folder / "清河区人民政府2021.pdf"
        service.render(service.parse_path(QINGHE), pdf)
        seed(b, pdf.read_bytes(), pdf.name)
    keys = {brief.name: brief.key for brief in b.briefs()}
    b.store.close()
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nianbao.cli", "serve", "--db", str(folder / "nianbao.db"), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/session.json", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("nianbao serve did not start: " + (folder / "server.log").read_text())
            time.sleep(0.2)
    try:
        yield {"base": base, "keys": keys, "folder": folder, "db": folder / "nianbao.db"}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(server: dict[str, Any]) -> Iterator[Any]:
    sync_playwright = _browser_or_skip()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: dict[str, Any], tmp_path: Path) -> Iterator[Any]:
    """A page that records console errors, uncaught errors and every request's host."""
    context = browser.new_context(viewport={"width": 1500, "height": 950}, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    hosts: set[str] = set()
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("request", lambda r: hosts.add(urlparse(r.url).hostname or r.url))
    pg.set_default_timeout(20_000)
    yield pg
    context.close()
    assert not errors, f"console errors: {errors}"
    assert hosts <= {"127.0.0.1"}, f"requests to other hosts: {hosts - {'127.0.0.1'}}"


def shot(page: Any, name: str, tmp_path: Path) -> Path:
    folder = ROOT / "docs" / "images" if os.environ.get("NIANBAO_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def test_upload_several_files_one_broken(page: Any, server: dict[str, Any], tmp_path: Path) -> None:
    files = {
        NEW.name: NEW.read_bytes(),
        "损坏的报告.pdf": b"%PDF-1.7\n1 0 obj broken",
        "年报合集.zip": zip_bomb(20),
        SHIMEN_2021.name: SHIMEN_2021.read_bytes(),  # stored already
    }
    paths = []
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(str(path))
    page.goto(server["base"] + "/upload")
    page.set_input_files("#files", paths)
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/upload/jobs/*")
    page.wait_for_selector("#job[data-done=yes]")
    states = {
        row.get_attribute("data-name"): row.get_attribute("data-state")
        for row in page.query_selector_all("tr[data-name]")
    }
    assert states == {
        NEW.name: "read",
        "损坏的报告.pdf": "failed",
        "年报合集.zip": "refused",
        SHIMEN_2021.name: "duplicate",
    }
    assert "RD01" in page.inner_text('tr[data-name="损坏的报告.pdf"] .message')
    assert "压缩炸弹" in page.inner_text('tr[data-name="年报合集.zip"] .message')
    shot(page, "upload", tmp_path)
    page.reload()  # the job is where it was
    page.wait_for_selector("#job[data-done=yes]")
    page.click("#save-all")
    page.wait_for_selector(f'tr[data-name="{NEW.name}"][data-state=saved]')


def _arithmetic_finding(page: Any) -> Any:
    return page.locator("li.finding", has_text="AR01").first


def test_finding_highlights_its_cell_and_review_survives_recheck(
    page: Any, server: dict[str, Any], tmp_path: Path
) -> None:
    key = server["keys"][ARITHMETIC.name]
    page.goto(f"{server['base']}/reports/{key}")
    finding = _arithmetic_finding(page)
    cells = (finding.get_attribute("data-cells") or "").split()
    assert "table3/new/natural" in cells
    finding.locator(".finding-go").click()
    cell = page.locator('td[data-path="table3/new/natural"]')
    assert "hl" in (cell.get_attribute("class") or "").split()
    assert cell.is_visible()
    source = page.locator(".original-pane .hl-src")
    assert source.count() == 1 and source.is_visible()
    shot(page, "report", tmp_path)
    finding.locator("input[name=comment]").fill("原件印制如此，已电话核实")
    finding.locator("button[value=dismissed]").click()
    page.wait_for_load_state()
    finding = _arithmetic_finding(page)
    assert finding.locator(".status").inner_text() == "忽略"
    page.click("#recheck")
    page.wait_for_load_state()
    finding = _arithmetic_finding(page)
    assert finding.locator(".status").inner_text() == "忽略"
    assert "原件印制如此" in finding.locator(".comment").inner_text()


def test_compare_two_years(page: Any, server: dict[str, Any], tmp_path: Path) -> None:
    page.goto(server["base"] + "/compare?agency=石门县自然资源和规划局")
    assert int(page.inner_text("#changed-count")) > 0
    assert page.locator("td.changed").count() > 0
    assert page.locator("#chain tbody tr").count() == 7
    shot(page, "compare", tmp_path)


def test_download_the_rectification_list(page: Any, server: dict[str, Any], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    key = server["keys"][ARITHMETIC.name]
    page.goto(f"{server['base']}/reports/{key}")
    with page.expect_download() as got:
        page.click("#download-rectification")
    path = tmp_path / "整改清单.xlsx"
    got.value.save_as(str(path))
    ws = load_workbook(path).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(r for r in rows if "规则" in r)
    assert any(r[header.index("规则")] == "AR01" for r in rows if r is not header)


def test_overview_and_statistics_draw(page: Any, server: dict[str, Any], tmp_path: Path) -> None:
    page.goto(server["base"] + "/")
    assert page.locator("table.grid td a").count() >= 2
    shot(page, "overview", tmp_path)
    page.goto(server["base"] + "/stats?min_n=0")
    page.wait_for_selector("#chart-trend svg")
    assert page.locator("#chart-ranking svg").count() == 1
    shot(page, "stats", tmp_path)
    page.goto(server["base"] + "/stats?min_n=1000000")  # no unit ranks: said in words, no bare axis
    page.wait_for_selector("#chart-trend svg")
    assert page.locator("#chart-ranking").count() == 0
    assert "暂无排名" in page.inner_text(".charts")
    page.goto(server["base"] + "/docs")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() > 10


def test_a_pdf_original_shows_the_cell_on_its_page(page: Any, server: dict[str, Any], tmp_path: Path) -> None:
    key = server["keys"].get("清河区人民政府2021.pdf")
    if key is None:
        if REQUIRED:
            pytest.fail("LibreOffice (soffice) is needed to render the PDF original")
        pytest.skip("LibreOffice (soffice) is not installed: no PDF original to show")
    page.goto(f"{server['base']}/reports/{key}")
    page.click('td.value[data-path="table3/new/total"]')
    box = page.locator(".pdf-page .box:visible")
    box.wait_for()
    image = box.locator("xpath=../img")
    for _ in range(100):  # the page image, drawn by pdftoppm on the server, arrives
        if image.evaluate("i => i.complete && i.naturalWidth"):
            break
        page.wait_for_timeout(100)
    assert image.evaluate("i => i.naturalWidth") > 500
    sheet = box.locator("xpath=..").bounding_box()
    drawn = box.bounding_box()
    assert sheet and drawn and drawn["width"] > 3 and drawn["height"] > 3
    assert sheet["x"] <= drawn["x"] and drawn["x"] + drawn["width"] <= sheet["x"] + sheet["width"] + 1
    assert sheet["y"] <= drawn["y"] and drawn["y"] + drawn["height"] <= sheet["y"] + sheet["height"] + 1
    page.wait_for_timeout(300)
    shot(page, "report-pdf", tmp_path)


def test_chromium_is_installed_by_the_setup_script() -> None:
    script = (ROOT / "scripts" / "install-system-deps.sh").read_text(encoding="utf-8")
    assert "chromium" in script
