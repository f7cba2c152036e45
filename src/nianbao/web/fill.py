"""填报: download the fill-in workbook for an agency and year, upload it filled, see the findings
on its cells, and download the finished report (DOCX, or PDF where LibreOffice is installed)
when nothing is wrong. The workbook, its reading and the rendering are the authoring modules'
and the service layer's; this page only carries files to and from them."""

import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from nianbao import formats, service
from nianbao.authoring.workbook import blank_report, write_template
from nianbao.outputs import SEVERITY_ZH
from nianbao.readers import ReadError
from nianbao.record import Report
from nianbao.web.analysis import MEDIA
from nianbao.web.errors import WebError
from nianbao.web.pages import attachment
from nianbao.web.security import User
from nianbao.web.uploads import UploadLimits, UploadRefused, check_zip
from nianbao.web.views import view_sections, view_table

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations when defined.

RENDERED = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


class Filled:
    """Filled workbooks read in this server process, the most recent few, by token."""

    def __init__(self, keep: int = 100) -> None:
        self.keep = keep
        self._items: OrderedDict[str, tuple[str, Report]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, user: str, report: Report) -> str:
        token = uuid.uuid4().hex
        with self._lock:
            self._items[token] = (user, report)
            while len(self._items) > self.keep:
                self._items.popitem(last=False)
        return token

    def get(self, user: str, token: str) -> Report | None:
        got = self._items.get(token)
        return got[1] if got and got[0] == user else None


def read_filled(data: bytes, limits: UploadLimits) -> Report:
    check_zip(data, "填报表", limits)
    with tempfile.TemporaryDirectory(prefix="nianbao-fill-") as tmp:
        path = Path(tmp) / "填报.xlsx"
        path.write_bytes(data)
        try:
            return service.load_record(path)
        except Exception as exc:  # not our workbook, or a broken one
            raise WebError(400, "不是 nianbao 生成的填报表，或文件已损坏") from exc


def register(app: FastAPI, current_user: Callable[..., User]) -> None:
    page: Callable[..., Response] = app.state.page
    limits: UploadLimits = app.state.settings.uploads
    filled = Filled()
    Me = Annotated[User, Depends(current_user)]

    def fill_data() -> dict[str, Any]:
        return {
            "first_year": formats.FIRST_REGULATED_YEAR,
            "workbook": "/fill/workbook.xlsx?agency=机关名称&year=年度",
            "upload": "/fill",
        }

    @app.get("/fill.json", summary="填报：下载填报表、上传填好的填报表")
    def fill_json(user: Me) -> Response:
        return JSONResponse(fill_data())

    @app.get("/fill", include_in_schema=False)
    def fill_page(request: Request, user: Me) -> Response:
        return page(request, "fill.html", fill_data(), {"title": "填报", "active": "fill"})

    @app.get("/fill/workbook.xlsx", summary="下载某机关某年度的填报表（Excel）")
    def workbook(user: Me, agency: str, year: int) -> Response:
        agency = agency.strip()
        if not agency or len(agency) > 100:
            raise WebError(400, "请填写机关名称（不超过 100 字）")
        if not formats.FIRST_REGULATED_YEAR <= year <= 2100:
            raise WebError(400, f"年度应在 {formats.FIRST_REGULATED_YEAR} 年以后")
        with tempfile.TemporaryDirectory(prefix="nianbao-fill-") as tmp:
            path = Path(tmp) / "填报.xlsx"
            write_template(blank_report(agency, year), path)
            data = path.read_bytes()
        return attachment(data, f"{agency}{year}年度报告填报表.xlsx", MEDIA["xlsx"])

    @app.post("/fill", summary="上传填好的填报表，检查其中的数字与文字")
    async def upload(request: Request, user: Me) -> Response:
        form = await request.form(max_files=2)
        value = form.get("workbook")
        if not isinstance(value, UploadFile) or not value.filename:
            raise WebError(400, "请选择填好的填报表（.xlsx）")
        data = await value.read(limits.max_file_bytes + 1)
        if len(data) > limits.max_file_bytes:
            raise WebError(413, f"文件超过 {limits.max_file_bytes // (1024 * 1024)} MB")
        try:
            report = await run_in_threadpool(read_filled, data, limits)
        except UploadRefused as exc:
            raise WebError(400, exc.message) from exc
        token = filled.put(user.name, report)
        if request.url.path.endswith(".json") or request.headers.get("accept", "").startswith("application/json"):
            return JSONResponse(await run_in_threadpool(result_data, token, report))
        return RedirectResponse(f"/fill/{token}", status_code=303)

    def result_data(token: str, report: Report) -> dict[str, Any]:
        findings = service.check_report(report)
        errors = sum(1 for f in findings if f.severity == "error")
        return {
            "token": token,
            "agency": report.agency,
            "year": report.year,
            "template": report.template,
            "errors": errors,
            "findings": [
                {
                    **f.to_dict(),
                    "severity_zh": SEVERITY_ZH.get(f.severity, f.severity),
                    "fingerprint": f.fingerprint,
                }
                for f in findings
            ],
            "sections": [s.__dict__ for s in view_sections(report)],
            "tables": [view_table(report, t).to_dict() for t in ("table2", "table3", "table4")],
            "downloads": {fmt: f"/fill/{token}/report.{fmt}" for fmt in RENDERED} if not errors else {},
        }

    def report_for(user: User, token: str) -> Report:
        report = filled.get(user.name, token)
        if report is None:
            raise WebError(404, "没有这份填报结果（服务重启后不保留），请重新上传")
        return report

    @app.get("/fill/{token}.json", summary="填报表的检查结果")
    def result_json(token: str, user: Me) -> Response:
        return JSONResponse(result_data(token, report_for(user, token)))

    @app.get("/fill/{token}", include_in_schema=False)
    def result_page(request: Request, token: str, user: Me) -> Response:
        data = result_data(token, report_for(user, token))
        return page(request, "fill_result.html", data, {"title": "填报检查结果", "active": "fill"})

    @app.get("/fill/{token}/report.{fmt}", summary="没有错误时：下载生成的年度报告（docx 或 pdf）")
    def rendered(token: str, fmt: str, user: Me) -> Response:
        report = report_for(user, token)
        if fmt not in RENDERED:
            raise WebError(404, "只能生成 docx 或 pdf")
        if any(f.severity == "error" for f in service.check_report(report)):
            raise WebError(409, "填报表还有错误，改正后才能生成报告")
        with tempfile.TemporaryDirectory(prefix="nianbao-render-") as tmp:
            out = Path(tmp) / f"report.{fmt}"
            try:
                service.render(report, out)
            except ReadError as exc:
                raise WebError(503, exc.message) from exc
            data = out.read_bytes()
        return attachment(
            data, f"{report.agency or ''}{report.year or ''}年政府信息公开工作年度报告.{fmt}", RENDERED[fmt]
        )
