"""The web app over HTTP (FastAPI's test client): JSON twins, accounts, CSRF, escaping, uploads."""

from __future__ import annotations

from pathlib import Path

import pytest

from web_helpers import (
    ARITHMETIC,
    PASSWORD,
    SHIMEN_2021,
    SHIMEN_2022,
    backend,
    client,
    seed,
    wait_job,
    with_script,
    zip_bomb,
)


@pytest.fixture(scope="module")
def seeded() -> tuple[object, dict[str, str]]:
    b = backend(ARITHMETIC, SHIMEN_2021, SHIMEN_2022)
    keys = {e.name: e.key for e in b.briefs()}
    return b, keys


def test_every_page_has_a_json_twin(seeded: tuple[object, dict[str, str]]) -> None:
    b, keys = seeded
    c = client(b)  # type: ignore[arg-type]
    key = keys[ARITHMETIC.name]
    for url in ("/overview", "/reports", f"/reports/{key}", "/upload", "/compare", "/stats", "/exports"):
        page = c.get(url)
        assert page.status_code == 200, url
        assert page.headers["content-type"].startswith("text/html")
        twin = c.get(url + ".json")
        assert twin.status_code == 200, url
        assert twin.headers["content-type"].startswith("application/json")
    overview = c.get("/overview.json").json()
    assert overview["reports"] == 3
    names = [row["agency"] for g in overview["groups"] for row in g["rows"]]
    assert "石门县自然资源和规划局" in names
    report = c.get(f"/reports/{key}.json").json()
    assert report["agency"] == "龙泉镇人民政府"
    assert [t["key"] for t in report["tables"]] == ["table2", "table3", "table4"]
    assert any(f["rule"] == "AR01" and "table3/new/natural" in f["cells"] for f in report["findings"])
    # the finding's cell is a cell of the drawn national table
    paths = {c["path"] for t in report["tables"] for row in t["rows"] for c in row if "path" in c}
    assert "table3/new/natural" in paths
    compared = c.get("/compare.json").json()
    assert compared["agency"] == "石门县自然资源和规划局" and (compared["a"], compared["b"]) == (2021, 2022)
    assert compared["consecutive"] and compared["chain"] and compared["sections"]
    stats = c.get("/stats.json", params={"metric": "granted_rate", "by": "year", "min_n": 0}).json()
    assert {m["key"] for m in stats["catalogue"]} >= {"granted_rate", "new_applications"}
    assert [t["year"] for t in stats["trend"]] == [2020, 2021, 2022]
    drilled = c.get("/stats.json", params={"drill": "2022"}).json()["units"]
    assert [u["agency"] for u in drilled] == ["石门县自然资源和规划局"] and drilled[0]["key"]
    exports = c.get("/exports.json").json()["exports"]
    assert {e["name"] for e in exports} == {"data", "findings", "metrics", "coverage", "comparisons"}
    spec = c.get("/openapi.json").json()
    assert "/reports/{key}.json" in spec["paths"] and "/overview.json" in spec["paths"]
    docs = c.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()


def test_pages_load_nothing_from_another_host(seeded: tuple[object, dict[str, str]]) -> None:
    b, keys = seeded
    c = client(b)  # type: ignore[arg-type]
    for url in ("/", "/upload", f"/reports/{keys[ARITHMETIC.name]}", "/docs"):
        html = c.get(url).text
        assert "http://" not in html and "https://" not in html and "//cdn" not in html, url


def test_anonymous_request_refused_off_localhost() -> None:
    c = client(backend(ARITHMETIC), host="0.0.0.0")
    assert c.get("/overview.json").status_code == 401
    page = c.get("/")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert c.get("/openapi.json").status_code == 401
    assert c.login("viewer").status_code == 303
    assert c.get("/overview.json").status_code == 200


def test_refuses_to_start_off_localhost_without_an_administrator(tmp_path: Path) -> None:
    from nianbao.web.app import create_app
    from nianbao.web.backend import StoreBackend
    from nianbao.web.settings import WebSettings

    with pytest.raises(RuntimeError, match="管理员"):
        create_app(WebSettings(host="0.0.0.0", db=str(tmp_path / "empty.db")))
    b = StoreBackend.open(str(tmp_path / "empty.db"))
    b.store.add_user("甲", PASSWORD, "审核员")
    with pytest.raises(RuntimeError, match="管理员"):
        create_app(WebSettings(host="0.0.0.0"), b)
    b.store.add_user("乙", PASSWORD, "管理员")
    assert create_app(WebSettings(host="0.0.0.0"), b) is not None


def test_session_cookie_is_secure_off_localhost() -> None:
    c = client(backend(), host="0.0.0.0")
    cookie = c.login("admin").headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie


def test_a_viewer_cannot_change_a_review_status() -> None:
    b = backend(ARITHMETIC)
    key = b.briefs()[0].key
    c = client(b, host="0.0.0.0")
    c.login("viewer")
    fp = c.get(f"/reports/{key}.json").json()["findings"][0]["fingerprint"]
    refused = c.change("POST", f"/reports/{key}/review", data={"fingerprint": fp, "status": "dismissed"})
    assert refused.status_code == 403
    assert "查看者" in refused.text
    assert b.decisions(key) == {}


def test_a_user_cannot_open_another_regions_report() -> None:
    b = backend(ARITHMETIC, SHIMEN_2022)
    keys = {e.name: e.key for e in b.briefs()}
    c = client(b, host="0.0.0.0")
    c.login("shimen")
    assert c.get(f"/reports/{keys[SHIMEN_2022.name]}.json").status_code == 200
    other = c.get(f"/reports/{keys[ARITHMETIC.name]}.json")
    assert other.status_code == 403 and "地区" in other.json()["detail"]
    assert c.get(f"/reports/{keys[ARITHMETIC.name]}/original").status_code == 403
    listed = [r["agency"] for r in c.get("/reports.json").json()["reports"]]
    assert listed == ["石门县自然资源和规划局"]


def test_a_form_without_its_csrf_token_is_refused() -> None:
    b = backend(ARITHMETIC)
    key = b.briefs()[0].key
    c = client(b)
    fp = c.get(f"/reports/{key}.json").json()["findings"][0]["fingerprint"]
    refused = c.post(f"/reports/{key}/review", data={"fingerprint": fp, "status": "dismissed"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    wrong = c.post(f"/reports/{key}/review", data={"fingerprint": fp, "status": "dismissed", "csrf": "x" * 43})
    assert wrong.status_code == 403
    assert b.decisions(key) == {}
    ok = c.change("POST", f"/reports/{key}/review", data={"fingerprint": fp, "status": "dismissed"})
    assert ok.status_code == 303


def test_a_script_in_a_reports_text_is_shown_as_text() -> None:
    b = backend()
    key = seed(b, with_script(SHIMEN_2022), "脚本.txt")
    c = client(b)
    html = c.get(f"/reports/{key}").text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;年报&#39;)&lt;/script&gt;" in html
    assert "script-src 'self'" in c.get(f"/reports/{key}").headers["content-security-policy"]
    original = c.get(f"/reports/{key}/original")
    assert original.headers["content-disposition"].startswith("attachment")


def test_review_decision_survives_a_recheck() -> None:
    b = backend(ARITHMETIC)
    key = b.briefs()[0].key
    c = client(b)
    finding = next(f for f in c.get(f"/reports/{key}.json").json()["findings"] if f["rule"] == "AR01")
    c.change(
        "POST",
        f"/reports/{key}/review",
        data={"fingerprint": finding["fingerprint"], "status": "dismissed", "comment": "原件如此"},
    )
    assert c.change("POST", f"/reports/{key}/recheck").status_code == 303
    again = next(f for f in c.get(f"/reports/{key}.json").json()["findings"] if f["rule"] == "AR01")
    assert again["status"] == "dismissed" and again["comment"] == "原件如此"
    assert [h["status"] for h in again["history"]] == ["dismissed"]


def test_login_attempts_are_rate_limited() -> None:
    c = client(backend(), host="0.0.0.0")
    codes = [c.login("admin", "wrong").status_code for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    assert c.login("admin").status_code == 429  # even the right password waits


def test_a_foreign_host_header_is_refused_on_loopback() -> None:
    c = client(backend())
    assert c.get("/overview.json", headers={"host": "evil.example"}).status_code == 400


def test_upload_several_files_one_broken_and_duplicates() -> None:
    b = backend()
    c = client(b)
    files = [
        ("files", (ARITHMETIC.name, ARITHMETIC.read_bytes(), "text/markdown")),
        ("files", ("坏文件.pdf", b"%PDF-1.7\n this is not a pdf", "application/pdf")),
        ("files", ("图片.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00binary", "text/plain")),
    ]
    job = c.change("POST", "/upload.json", files=files).json()
    job = wait_job(c, job["id"])
    states = {i["name"]: i for i in job["items"]}
    assert states[ARITHMETIC.name]["state"] == "read"
    assert states[ARITHMETIC.name]["agency"] == "龙泉镇人民政府"
    assert states["坏文件.pdf"]["state"] == "failed" and "RD01" in states["坏文件.pdf"]["message"]
    assert states["图片.txt"]["state"] == "refused" and "不是可读取的报告文件" in states["图片.txt"]["message"]
    index = states[ARITHMETIC.name]["index"]
    saved = c.change(
        "POST", f"/upload/jobs/{job['id']}/save", data={f"year-{index}": "2021"}, headers={"accept": "application/json"}
    ).json()
    item = next(i for i in saved["items"] if i["index"] == index)
    assert item["state"] == "saved" and item["year"] == 2021
    assert b.entry(item["key"]).year == 2021  # type: ignore[union-attr]
    again = wait_job(c, c.change("POST", "/upload.json", files=files[:1]).json()["id"])
    assert again["items"][0]["state"] == "duplicate"
    assert c.get(f"/reports/{again['items'][0]['key']}.json").json()["agency"] == "龙泉镇人民政府"


def test_a_zip_bomb_is_refused_in_chinese_and_the_server_keeps_serving() -> None:
    b = backend()
    c = client(b)
    bomb = zip_bomb(20)
    good = SHIMEN_2022.read_bytes()
    job = c.change(
        "POST",
        "/upload.json",
        files=[("files", ("炸弹.zip", bomb, "application/zip")), ("files", (SHIMEN_2022.name, good, "text/plain"))],
    ).json()
    job = wait_job(c, job["id"])
    items = {i["name"]: i for i in job["items"]}
    assert items["炸弹.zip"]["state"] == "refused"
    assert "压缩炸弹" in items["炸弹.zip"]["message"]
    assert items[SHIMEN_2022.name]["state"] == "read"
    assert c.get("/overview.json").status_code == 200


def test_a_body_over_the_limit_is_refused_before_it_is_read() -> None:
    from nianbao.web.uploads import UploadLimits

    c = client(backend(), uploads=UploadLimits(max_total_bytes=1024 * 1024))
    big = c.change("POST", "/upload.json", files=[("files", ("大.txt", b"1" * (3 * 1024 * 1024), "text/plain"))])
    assert big.status_code == 413 and "上限" in big.json()["detail"]
    assert c.get("/overview.json").status_code == 200


def test_the_rectification_list_reads_back_with_its_review(tmp_path: object) -> None:
    import io

    from openpyxl import load_workbook

    b = backend(ARITHMETIC)
    key = b.briefs()[0].key
    c = client(b)
    ar01 = next(f for f in c.get(f"/reports/{key}.json").json()["findings"] if f["rule"] == "AR01")
    c.change(
        "POST",
        f"/reports/{key}/review",
        data={"fingerprint": ar01["fingerprint"], "status": "confirmed", "comment": "请整改"},
    )
    got = c.get(f"/reports/{key}/rectification.xlsx")
    assert got.status_code == 200 and got.headers["content-disposition"].startswith("attachment")
    ws = load_workbook(io.BytesIO(got.content)).active
    rows = [[cell.value for cell in row] for row in ws.iter_rows()]
    header = next(r for r in rows if "规则" in r)
    row = next(r for r in rows if "AR01" in r)
    assert row[header.index("审核状态")] == "确认" and row[header.index("审核意见")] == "请整改"
    for name in ("data", "findings", "metrics", "coverage", "comparisons"):
        assert c.get(f"/exports/{name}.xlsx").status_code == 200, name


def test_fill_in_workbook_round_trip(tmp_path: Path) -> None:
    import io
    from urllib.parse import quote

    from openpyxl import load_workbook

    from nianbao import service
    from nianbao.authoring.workbook import write_template

    c = client(backend())
    blank = c.get("/fill/workbook.xlsx", params={"agency": "示例区教育委员会", "year": 2024})
    assert blank.status_code == 200 and quote("填报表") in blank.headers["content-disposition"]
    assert "表三 申请办理" in load_workbook(io.BytesIO(blank.content)).sheetnames
    # a filled workbook: the example report's figures, as its author would type them
    report = service.parse_path(SHIMEN_2022)
    filled = tmp_path / "填报.xlsx"
    write_template(report, filled)
    ok = c.change(
        "POST", "/fill", files={"workbook": ("填报.xlsx", filled.read_bytes())}, headers={"accept": "application/json"}
    )
    assert ok.status_code == 200, ok.text
    result = ok.json()
    assert result["errors"] == 0 and result["agency"] == "石门县自然资源和规划局"
    docx = c.get(result["downloads"]["docx"])
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert service.parse_bytes(docx.content, "报告.docx").table3 == report.table3
    # one figure typed wrong: the finding names its cell, and no report is offered
    book = load_workbook(filled)
    sheet, coordinate = next(
        (s, c) for p, s, c in book["_nianbao"].iter_rows(min_row=2, values_only=True) if p == "table3/new/natural"
    )
    book[sheet][coordinate] = (report.value("table3/new/natural") or 0) + 5
    wrong = io.BytesIO()
    book.save(wrong)
    bad = c.change(
        "POST", "/fill", files={"workbook": ("填报.xlsx", wrong.getvalue())}, headers={"accept": "application/json"}
    ).json()
    assert bad["errors"] >= 1 and not bad["downloads"]
    assert any("table3/new/natural" in f["cells"] and f["severity"] == "error" for f in bad["findings"])
    assert c.get(f"/fill/{bad['token']}").status_code == 200
    assert c.get(f"/fill/{bad['token']}/report.docx").status_code == 409
    not_ours = c.change("POST", "/fill", files={"workbook": ("x.xlsx", b"PK\x03\x04 not a zip")})
    assert not_ours.status_code == 400


def test_users_and_serve_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from nianbao.cli import app

    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    refused = runner.invoke(app, ["serve", "--db", db, "--host", "0.0.0.0", "--port", "1"])
    assert refused.exit_code == 2 and "管理员" in refused.output
    added = runner.invoke(
        app, ["users", "add", "王五", "--role", "管理员", "--password-stdin", "--db", db], input="long-enough-1\n"
    )
    assert added.exit_code == 0, added.output
    short = runner.invoke(app, ["users", "add", "赵六", "--password-stdin", "--db", db], input="short\n")
    assert short.exit_code == 2 and "8 个字符" in short.output
    listed = runner.invoke(app, ["users", "list", "--db", db])
    assert "王五\t管理员\t全部地区" in listed.output
    from nianbao.web.backend import StoreBackend

    b = StoreBackend.open(db)
    assert b.has_admin() and b.verify("王五", "long-enough-1") is not None and b.verify("王五", "wrong") is None


def _hangs_on_request(item: tuple[bytes, str]) -> dict[str, object]:
    """A reader that never finishes one file (the worker's test hook)."""
    import time

    from nianbao import service

    data, name = item
    if "挂起" in name:
        time.sleep(60)
    return service.parse_bytes(data, name).to_dict()


def test_a_file_that_hangs_gets_its_own_error_and_the_server_keeps_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    from nianbao.web import jobs
    from nianbao.web.jobs import ParseLimits

    monkeypatch.setattr(jobs, "_parse_item", _hangs_on_request)
    c = client(backend(), parsing=ParseLimits(seconds=6))
    files = [
        ("files", ("挂起.txt", SHIMEN_2022.read_bytes(), "text/plain")),
        ("files", (SHIMEN_2021.name, SHIMEN_2021.read_bytes(), "text/plain")),
    ]
    job = c.change("POST", "/upload.json", files=files).json()
    assert c.get("/overview.json").status_code == 200  # answered while the file hangs
    items = {i["name"]: i for i in wait_job(c, job["id"])["items"]}
    assert items["挂起.txt"]["state"] == "failed" and "RD14" in items["挂起.txt"]["message"]
    assert "秒" in items["挂起.txt"]["message"]
    assert items[SHIMEN_2021.name]["state"] == "read"


def test_checking_the_whole_store_adds_the_rules_across_reports() -> None:
    import time

    from web_helpers import EXAMPLES

    before, after = EXAMPLES / "00007_安远镇人民政府2019.docx", EXAMPLES / "00008_安远镇人民政府2020.html"
    b = backend(before, after)
    key = next(x.key for x in b.briefs() if x.year == 2020)
    c = client(b)
    assert not any(f["rule"] == "XY01" for f in c.get(f"/reports/{key}.json").json()["findings"])
    fp = c.get(f"/reports/{key}.json").json()["findings"]
    started = c.change("POST", "/check", headers={"accept": "application/json"})
    assert started.status_code == 202
    for _ in range(300):
        state = c.get("/check.json").json()
        if not state["running"]:
            break
        time.sleep(0.1)
    assert state["last"]["reports"] == 2 and not state["error"]
    found = c.get(f"/reports/{key}.json").json()["findings"]
    chain = next(f for f in found if f["rule"] == "XY01")  # the manifest's injected break
    assert "table3/carried_in/natural" in chain["cells"]
    assert len(found) > len(fp)
    viewer = client(b, host="0.0.0.0")
    viewer.login("viewer")
    assert viewer.change("POST", "/check").status_code == 403


def test_a_region_scoped_user_exports_and_counts_only_their_region() -> None:
    import json

    b = backend(ARITHMETIC, SHIMEN_2021, SHIMEN_2022)
    c = client(b, host="0.0.0.0")
    c.login("shimen")
    sheets = json.loads(c.get("/exports/data.json").content)
    at = [c["key"] for c in sheets[0]["columns"]].index("agency")
    assert {row[at] for row in sheets[0]["rows"]} == {"石门县自然资源和规划局"}
    assert c.get("/stats.json").json()["reports"] == 2
    assert c.get("/compare.json").json()["agencies"] == ["石门县自然资源和规划局"]
    assert [g["rows"][0]["agency"] for g in c.get("/overview.json").json()["groups"]] == ["石门县自然资源和规划局"]
