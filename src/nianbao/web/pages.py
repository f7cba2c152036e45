"""The pages: 总览, 上传, 报告 (and its review actions and downloads). Each GET page answers the
same URL with ``.json`` as JSON (listed in OpenAPI); the HTML page is drawn from the same data."""

# No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations (the local
# ``Me`` dependency alias) when they are defined.

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from nianbao.outputs import SEVERITY_ZH, place_words
from nianbao.web.backend import REVIEW_STATES, Backend, Brief, Entry, fingerprint
from nianbao.web.coverage import STATES as COVERAGE_STATES
from nianbao.web.coverage import brief_state, coverage, state_label
from nianbao.web.errors import WebError
from nianbao.web.jobs import Jobs
from nianbao.web.original import loc_key, original_view, pdf_page_png
from nianbao.web.security import User
from nianbao.web.settings import WebSettings
from nianbao.web.uploads import Incoming, UploadRefused, expand
from nianbao.web.views import finding_location, view_sections, view_table

SEVERITY_ORDER = {"error": 0, "warning": 1, "notice": 2}


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def attachment(data: bytes, name: str, media_type: str = "application/octet-stream") -> Response:
    """A download: never shown inline (an HTML original must not run in this site)."""
    ascii_name = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in name) or "download"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})


class PageCache:
    """Rendered PDF page images, the most recent few."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int], make: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def register(app: FastAPI, current_user: Callable[..., User]) -> None:
    settings: WebSettings = app.state.settings
    backend: Backend = app.state.backend
    jobs: Jobs = app.state.jobs
    page: Callable[..., Response] = app.state.page
    page_images = PageCache()
    Me = Annotated[User, Depends(current_user)]

    def fail(status: int, message: str) -> Exception:
        return WebError(status, message)

    def visible(user: User) -> list[Brief]:
        return [b for b in backend.briefs() if user.sees(b.region)]

    def entry_for(user: User, key: str) -> Entry:
        got = backend.entry(key)
        if got is None:
            raise fail(404, "没有这份报告")
        if not user.sees(got.region):
            raise fail(403, "这份报告不在您的地区范围内，无权查看")
        return got

    # --- 总览 ---------------------------------------------------------------------------------

    def overview_data(user: User, region: str, level: str, state: str, year: int | None) -> dict[str, Any]:
        entries = visible(user)
        listed = [a for a in backend.agencies() if user.sees(a[0])]
        years, rows = coverage(entries, listed)
        if region:
            rows = [r for r in rows if r.region.startswith(region)]
        if level:
            rows = [r for r in rows if r.level == level]
        if year:
            years = [y for y in years if y == year]
            rows = [r.__class__(r.region, r.level, r.agency, tuple(c for c in r.cells if c.year == year)) for r in rows]
        if state:
            rows = [r for r in rows if any(c.state == state for c in r.cells)]
        counts = {s: 0 for s in COVERAGE_STATES}
        for r in rows:
            for c in r.cells:
                counts[c.state] += 1
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            region = f"行政区划 {r.region}" if r.region else "（未分地区）"
            groups.setdefault(f"{region} · {r.level or '（未分层级）'}", []).append(r.to_dict())
        return {
            "years": years,
            "groups": [{"name": k, "rows": v} for k, v in groups.items()],
            "counts": counts,
            "states": COVERAGE_STATES,
            "filters": {"region": region, "level": level, "state": state, "year": year},
            "regions": sorted({e.region for e in entries if e.region}),
            "levels": sorted({e.level for e in entries if e.level}),
            "reports": len(entries),
            "check": check_state,
        }

    @app.get("/overview.json", summary="总览：机关 × 年度的报送与审核情况")
    def overview_json(
        request: Request, user: Me, region: str = "", level: str = "", state: str = "", year: int | None = None
    ) -> Response:
        return JSONResponse(overview_data(user, region, level, state, year))

    @app.get("/", include_in_schema=False)
    @app.get("/overview", include_in_schema=False)
    def overview(
        request: Request, user: Me, region: str = "", level: str = "", state: str = "", year: int | None = None
    ) -> Response:
        data = overview_data(user, region, level, state, year)
        return page(request, "overview.html", data, {"title": "总览", "active": "overview"})

    # --- 全库检查 ---------------------------------------------------------------------------

    check_state: dict[str, Any] = {"running": False, "last": None, "error": ""}

    def run_check(user: str) -> None:
        try:
            check_state["last"] = {**backend.check_all(), "at": now_text(), "user": user}
            check_state["error"] = ""
        except Exception:  # shown on the overview; the server goes on
            check_state["error"] = "全库检查出错（程序内部错误）"
        finally:
            check_state["running"] = False

    @app.get("/check.json", summary="全库检查的状态（跨报告规则：结转链条、正文照搬、逾期发布等）")
    def check_json(user: Me) -> Response:
        return JSONResponse(check_state)

    @app.post("/check", summary="对库中全部报告运行全部规则（含跨报告规则），在后台进行")
    def check_all(request: Request, user: Me) -> Response:
        if not user.can_review:
            raise fail(403, f"{user.role_zh}不能运行全库检查")
        if not check_state["running"]:
            check_state["running"] = True
            backend.audit(user.name, "check", "", {})
            threading.Thread(target=run_check, args=(user.name,), name="nianbao-check", daemon=True).start()
        if request.headers.get("accept", "").startswith("application/json"):
            return JSONResponse(check_state, status_code=202)
        return RedirectResponse("/", status_code=303)

    # --- 报告列表 ------------------------------------------------------------------------------

    def reports_data(user: User, q: str) -> dict[str, Any]:
        entries = visible(user)
        rows = []
        for e in sorted(entries, key=lambda e: (e.agency, e.year or 0, e.name)):
            if q and q not in e.agency and q not in e.name:
                continue
            state, n = brief_state(e)
            rows.append(
                {
                    "key": e.key,
                    "name": e.name,
                    "agency": e.agency,
                    "year": e.year,
                    "region": e.region,
                    "level": e.level,
                    "state": state,
                    "state_zh": state_label(state, n),
                    "findings": len(e.findings),
                }
            )
        return {"reports": rows, "q": q}

    @app.get("/reports.json", summary="报告列表")
    def reports_json(user: Me, q: str = "") -> Response:
        return JSONResponse(reports_data(user, q))

    @app.get("/reports", include_in_schema=False)
    def reports(request: Request, user: Me, q: str = "") -> Response:
        return page(request, "reports.html", reports_data(user, q), {"title": "报告", "active": "reports"})

    # --- 报告 ---------------------------------------------------------------------------------

    def report_data(entry: Entry) -> dict[str, Any]:
        report = entry.report
        decisions = backend.decisions(entry.key)
        findings = []
        for i, f in enumerate(sorted(entry.findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 3))):
            fp = fingerprint(f)
            history = decisions.get(fp, [])
            last = history[-1] if history else None
            location = finding_location(report, f)
            findings.append(
                {
                    "index": i,
                    "fingerprint": fp,
                    "rule": f.rule,
                    "severity": f.severity,
                    "severity_zh": SEVERITY_ZH.get(f.severity, f.severity),
                    "message": f.message,
                    "cells": list(f.cells),
                    "location": location,
                    "loc_key": loc_key(location),
                    "place": place_words(location),
                    "status": last.status if last else "open",
                    "status_zh": REVIEW_STATES[last.status if last else "open"],
                    "comment": last.comment if last else "",
                    "history": [d.to_dict() for d in history],
                }
            )
        tables = [view_table(report, t) for t in ("table2", "table3", "table4")]
        return {
            "key": entry.key,
            "name": entry.name,
            "agency": report.agency,
            "year": report.year,
            "template": report.template,
            "region": entry.region,
            "level": entry.level,
            "format": report.source.format,
            "pages": report.source.pages,
            "doc_title": report.title,
            "sections": [s.__dict__ for s in view_sections(report)],
            "tables": [t.to_dict() for t in tables],
            "locations": {path: {**loc, "key": loc_key(loc)} for path, loc in report.locations.items()},
            "findings": findings,
            "errors": [e.to_dict() for e in report.errors],
            "downloads": {
                "original": f"/reports/{entry.key}/original",
                "record": f"/reports/{entry.key}/record.json",
                "rectification": f"/reports/{entry.key}/rectification.xlsx",
            },
        }

    @app.get("/reports/{key}.json", summary="一份报告：六个部分、三张表、发现及其审核状态")
    def report_json(key: str, user: Me) -> Response:
        return JSONResponse(report_data(entry_for(user, key)))

    @app.get("/reports/{key}", include_in_schema=False)
    def report_page(request: Request, key: str, user: Me) -> Response:
        entry = entry_for(user, key)
        data = report_data(entry)
        data_original = backend.original(entry)
        shown = original_view(data_original, entry.name) if data_original is not None else None
        title = f"{entry.agency or '（未识别机关）'} {entry.year or ''} 年度报告"
        return page(request, "report.html", data, {"title": title, "active": "reports", "original": shown})

    @app.get("/reports/{key}/record.json", summary="报告记录（nianbao/report/v1）")
    def record_json(key: str, user: Me) -> Response:
        entry = entry_for(user, key)
        body = entry.report.to_dict()
        stem = entry.name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        import json

        return attachment(json.dumps(body, ensure_ascii=False, indent=2).encode(), f"{stem}.json", "application/json")

    @app.get("/reports/{key}/original", summary="原始文件（下载）")
    def original(key: str, user: Me) -> Response:
        entry = entry_for(user, key)
        data = backend.original(entry)
        if data is None:
            raise fail(404, "没有保存原始文件")
        return attachment(data, entry.name.rsplit("/", 1)[-1])

    @app.get("/reports/{key}/pages/{number}.png", summary="PDF 原文的一页（图片）")
    def page_image(key: str, number: int, user: Me) -> Response:
        entry = entry_for(user, key)
        data = backend.original(entry)
        if data is None or entry.report.source.format != "pdf":
            raise fail(404, "没有这一页")
        if not 1 <= number <= (entry.report.source.pages or 0):
            raise fail(404, "没有这一页")
        png = page_images.get((entry.sha256, number), lambda: pdf_page_png(data, number))
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @app.post("/reports/{key}/review", summary="审核一条发现：确认 / 忽略（附意见）")
    async def review(request: Request, key: str, user: Me) -> Response:
        entry = entry_for(user, key)
        if not user.can_review:
            raise fail(403, f"{user.role_zh}不能修改审核状态")
        form = await request.form()
        fp = str(form.get("fingerprint") or "")
        status = str(form.get("status") or "")
        comment = str(form.get("comment") or "").strip()[:2000]
        if status not in REVIEW_STATES:
            raise fail(400, "审核结论只能是 确认、忽略 或 待审核")
        if fp not in {fingerprint(f) for f in entry.findings}:
            raise fail(404, "这份报告没有这条发现（可能已在重新检查后消失）")
        decision = await run_in_threadpool(backend.decide, key, fp, status, comment, user)
        if request.headers.get("accept", "").startswith("application/json"):
            return JSONResponse(decision.to_dict())
        return RedirectResponse(f"/reports/{key}#f-{fp}", status_code=303)

    @app.post("/reports/{key}/recheck", summary="重新检查一份报告（审核结论保留）")
    def recheck(request: Request, key: str, user: Me) -> Response:
        entry_for(user, key)
        if not user.can_review:
            raise fail(403, f"{user.role_zh}不能重新检查报告")
        backend.recheck(key)
        backend.audit(user.name, "recheck", key, {})
        if request.headers.get("accept", "").startswith("application/json"):
            return JSONResponse({"key": key, "rechecked": True})
        return RedirectResponse(f"/reports/{key}", status_code=303)

    # --- 上传 ---------------------------------------------------------------------------------

    limits = settings.uploads

    @app.get("/upload.json", summary="上传页：限制说明")
    def upload_json(user: Me) -> Response:
        return JSONResponse(upload_data())

    def upload_data() -> dict[str, Any]:
        return {
            "limits": {
                "max_file_mb": limits.max_file_bytes // (1024 * 1024),
                "max_files": limits.max_files,
                "max_total_mb": limits.max_total_bytes // (1024 * 1024),
                "max_zip_members": limits.max_zip_members,
                "max_zip_ratio": limits.max_zip_ratio,
                "parse_seconds": settings.parsing.seconds,
                "parse_memory_mb": settings.parsing.memory_mb,
            }
        }

    @app.get("/upload", include_in_schema=False)
    def upload_page(request: Request, user: Me) -> Response:
        return page(request, "upload.html", upload_data(), {"title": "上传", "active": "upload"})

    async def start_upload(request: Request, user: User) -> Any:
        if not user.can_review:
            raise fail(403, f"{user.role_zh}不能上传报告")
        form = await request.form(max_files=limits.max_files + 10, max_fields=5000)
        files: list[Incoming] = []
        for value in form.getlist("files"):
            if isinstance(value, UploadFile) and value.filename:
                data = await value.read(limits.max_file_bytes + 1)
                files.append(Incoming(value.filename, data))
        if not files:
            raise fail(400, "请选择要上传的文件")
        try:
            taken, refused = await run_in_threadpool(expand, files, limits)
        except UploadRefused as exc:
            raise fail(413, exc.message) from exc
        job = jobs.start(
            user.name,
            [(f.name, f.data) for f in taken],
            [(r.name, r.message) for r in refused],
            backend.known,
        )
        backend.audit(user.name, "upload", job.id, {"files": len(files)})
        return job

    @app.post("/upload.json", summary="上传报告（多个文件或 .zip），返回读取任务")
    async def upload_api(request: Request, user: Me) -> Response:
        job = await start_upload(request, user)
        return JSONResponse(job.to_dict(), status_code=202)

    @app.post("/upload", include_in_schema=False)
    async def upload(request: Request, user: Me) -> Response:
        job = await start_upload(request, user)
        return RedirectResponse(f"/upload/jobs/{job.id}", status_code=303)

    def job_for(user: User, job_id: str) -> Any:
        job = jobs.get(job_id)
        if job is None or (job.user != user.name and user.role != "admin"):
            raise fail(404, "没有这个上传任务（服务重启后任务记录不保留）")
        return job

    @app.get("/upload/jobs/{job_id}.json", summary="上传任务：每个文件的读取进度和结果")
    def job_json(job_id: str, user: Me) -> Response:
        return JSONResponse(job_for(user, job_id).to_dict())

    @app.get("/upload/jobs/{job_id}", include_in_schema=False)
    def job_page(request: Request, job_id: str, user: Me) -> Response:
        job = job_for(user, job_id)
        template = "job_items.html" if request.headers.get("hx-request") else "job.html"
        return page(request, template, job.to_dict(), {"title": "上传任务", "active": "upload"})

    @app.post("/upload/jobs/{job_id}/save", summary="保存已读取的文件（可先改机关名称和年度）")
    async def job_save(request: Request, job_id: str, user: Me) -> Response:
        if not user.can_review:
            raise fail(403, f"{user.role_zh}不能保存报告")
        job = job_for(user, job_id)
        form = await request.form()
        saved = 0
        for item in job.items:
            if item.state != "read" or item.record is None:
                continue
            if form.get(f"skip-{item.index}"):
                continue
            agency = str(form.get(f"agency-{item.index}") or item.agency).strip() or None
            year_text = str(form.get(f"year-{item.index}") or "").strip()
            year = int(year_text) if year_text.isdigit() else item.year
            result = await run_in_threadpool(backend.save, item.data, item.name, item.record, agency, year)
            if result.message:
                item.state, item.message = "failed", result.message
                continue
            item.state = "duplicate" if result.duplicate else "saved"
            item.agency, item.year, item.key = agency or "", year, result.key
            item.data = b""
            saved += not result.duplicate
        backend.audit(user.name, "save", job.id, {"saved": saved})
        if request.headers.get("accept", "").startswith("application/json"):
            return JSONResponse(job.to_dict())
        return RedirectResponse(f"/upload/jobs/{job.id}", status_code=303)
