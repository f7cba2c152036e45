"""The pages over many reports: 比对 (two years of one agency), 统计 (the metric catalogue, groups,
charts, rankings, drill-down), 导出 (every export as a download), and one report's 整改清单.

They show what ``nianbao.compare``, ``nianbao.metrics`` and ``nianbao.exports`` compute; nothing
here counts or compares on its own.
"""

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from nianbao import compare as comparing
from nianbao import exports, metrics
from nianbao.record import Finding, Report
from nianbao.web.backend import REVIEW_STATES, Backend, Entry, fingerprint
from nianbao.web.errors import WebError
from nianbao.web.pages import attachment
from nianbao.web.security import LOCAL_USER, User
from nianbao.web.views import view_table

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations when defined.

EXPORTS = {
    "data": "数据明细",
    "findings": "问题清单（整改清单）",
    "metrics": "指标",
    "coverage": "报送情况",
    "comparisons": "比较",
}
EXPORT_FORMATS = {"xlsx": "Excel", "csv": "CSV（第一张表）", "parquet": "Parquet（第一张表）", "json": "JSON"}
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "json": "application/json",
}
RANKED_DEFAULT = "granted_rate"


def sheets_bytes(sheets: list[exports.Sheet], fmt: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="nianbao-export-") as tmp:
        out = Path(tmp) / f"export.{fmt}"
        exports.write(sheets, out)
        return out.read_bytes()


def register(app: FastAPI, current_user: Callable[..., User]) -> None:
    backend: Backend = app.state.backend
    page: Callable[..., Response] = app.state.page
    Me = Annotated[User, Depends(current_user)]

    def visible(user: User) -> list[Entry]:
        return [e for e in backend.entries() if user.sees(e.region) and not e.report.errors]

    def rows_for(user: User) -> list[dict[str, Any]]:
        return [r for r in backend.metric_rows() if user.sees(r.get("region"))]

    def review_of(entry: Entry) -> Callable[[Report, Finding], tuple[str, str]]:
        decisions = backend.decisions(entry.key)

        def review(_: Report, f: Finding) -> tuple[str, str]:
            history = decisions.get(fingerprint(f))
            if not history:
                return exports.REVIEW_PENDING, ""
            return REVIEW_STATES[history[-1].status], history[-1].comment

        return review

    # --- 整改清单 ------------------------------------------------------------------------------

    @app.get("/reports/{key}/rectification.xlsx", summary="这份报告的整改清单（Excel）")
    def rectification(key: str, user: Me) -> Response:
        entry = backend.entry(key)
        if entry is None:
            raise WebError(404, "没有这份报告")
        if not user.sees(entry.region):
            raise WebError(403, "这份报告不在您的地区范围内，无权查看")
        sheets = exports.findings_sheet([(entry.report, entry.findings)], review_of(entry))
        stem = f"{entry.agency or '报告'}{entry.year or ''}整改清单"
        return attachment(sheets_bytes(sheets, "xlsx"), f"{stem}.xlsx", MEDIA["xlsx"])

    # --- 比对 ---------------------------------------------------------------------------------

    def compare_data(user: User, agency: str, a: int | None, b: int | None) -> dict[str, Any]:
        years: dict[str, dict[int, str]] = {}
        for brief in backend.briefs():
            if brief.agency and brief.year and user.sees(brief.region):
                years.setdefault(brief.agency, {})[brief.year] = brief.key
        agencies = sorted(years)
        if not agency:
            agency = next((n for n in agencies if len(years[n]) >= 2), agencies[0] if agencies else "")
        have = sorted(years.get(agency, {}))
        out: dict[str, Any] = {"agency": agency, "agencies": agencies, "years": have, "a": None, "b": None}
        if len(have) < 2:
            out["message"] = "需要同一机关两个年度的报告才能比对" if agency else "还没有报告"
            return out
        b = b if b in have else have[-1]
        earlier = [y for y in have if y < b]
        a = a if a in have and a != b else (b - 1 if b - 1 in have else (earlier[-1] if earlier else have[0]))
        ea, eb = backend.entries([years[agency][a], years[agency][b]])
        result = comparing.compare(ea.report, eb.report)
        data = result.to_dict()
        changed = {c["path"]: c for c in data["cells"] if c["a"] != c["b"] or c["a_state"] != c["b_state"]}
        sides = []
        for entry in (ea, eb):
            tables = [view_table(entry.report, t).to_dict() for t in ("table2", "table3", "table4")]
            sides.append({"key": entry.key, "year": entry.year, "name": entry.name, "tables": tables})
        sentences = {s.number: [{"text": t, "copied": c} for t, c in s.sentences] for s in result.sections}
        for s in data["sections"]:
            s["sentences"] = sentences.get(s["number"], [])
        out.update(
            {
                "a": a,
                "b": b,
                "consecutive": result.consecutive,
                "sides": sides,
                "changed": changed,
                "chain": data["chain"],
                "stock": data["stock"],
                "sections": data["sections"],
            }
        )
        return out

    @app.get("/compare.json", summary="比对：同一机关两个年度（默认今年与上一年）")
    def compare_json(user: Me, agency: str = "", a: int | None = None, b: int | None = None) -> Response:
        return JSONResponse(compare_data(user, agency, a, b))

    @app.get("/compare", include_in_schema=False)
    def compare_page(
        request: Request, user: Me, agency: str = "", a: int | None = None, b: int | None = None
    ) -> Response:
        return page(request, "compare.html", compare_data(user, agency, a, b), {"title": "比对", "active": "compare"})

    # --- 统计 ---------------------------------------------------------------------------------

    def stats_data(user: User, by: str, metric: str, min_n: int, drill: str) -> dict[str, Any]:
        if by not in metrics.GROUPINGS:
            raise WebError(400, f"不支持的分组：{by}（可用 {'、'.join(metrics.GROUPINGS)}）")
        if metric not in metrics.METRIC_BY_KEY:
            raise WebError(400, f"没有这个指标：{metric}")
        rows = rows_for(user)

        def rolled(grouping: str, keys: tuple[str, ...] | None = None) -> metrics.Rollup:
            made: metrics.Rollup = backend.cached(
                ("rollup", user.region, grouping, min_n, keys), lambda: metrics.rollup(rows, grouping, min_n, keys)
            )
            return made

        result = rolled(by)
        key_of = {str(r["file"]): str(r["key"]) for r in rows}
        chosen = metrics.METRIC_BY_KEY[metric]

        def value(v: metrics.MetricValue) -> dict[str, Any]:
            return {
                "value": v.value,
                "shown": metrics.format_value(metrics.METRIC_BY_KEY[v.key], v.value),
                "reason": v.reason,
                "numerator": v.numerator,
                "denominator": v.denominator,
            }

        catalogue = [
            {
                "key": m.key,
                "name": m.name,
                "unit": m.unit,
                "ratio": m.is_ratio,
                "caliber": m.caliber,
                "formulas": {t: f.text() for t, f in m.formulas.items()},
            }
            for m in metrics.METRICS
        ]
        groups = [
            {"group": g.group, "units": g.units, "values": {k: value(v) for k, v in g.values.items()}}
            for g in (*result.groups, result.total)
        ]
        units: list[dict[str, Any]] = []
        for u in result.units:
            group = str(getattr(u, by) or metrics.NO_GROUP)
            units.append(
                {
                    "agency": u.agency,
                    "year": u.year,
                    "region": u.region,
                    "level": u.level,
                    "group": group,
                    "key": key_of.get(u.file, ""),
                    "value": value(u.values[metric]),
                    "applications": u.values[metrics.BASE_METRIC].value,
                }
            )
        trend: dict[int, list[Any]] = {}
        year_roll = result if by == "year" else rolled("year")
        for g in year_roll.groups:
            if g.group.isdigit():
                trend[int(g.group)] = [g.values[metric].value, g.units]
        ranking = [
            {"year": r.year, "rank": r.rank, "agency": r.agency, "value": r.value, "applications": r.applications}
            for r in result.ranked(metric)
        ]
        return {
            "by": by,
            "by_zh": metrics.GROUPINGS[by],
            "groupings": metrics.GROUPINGS,
            "metric": metric,
            "metric_name": chosen.name,
            "ratio": chosen.is_ratio,
            "min_n": min_n,
            "catalogue": catalogue,
            "groups": groups,
            "trend": [{"year": y, "value": v, "units": n} for y, (v, n) in sorted(trend.items())],
            "distribution": [u["value"]["value"] for u in units if u["value"]["value"] is not None],
            "ranking": ranking,
            "left_out": result.left_out,
            "drill": drill,
            "units": [u for u in units if not drill or u["group"] == drill],
            "reports": len(rows),
        }

    def warm() -> None:
        """The overview's list and the statistics page as first opened (all regions), computed
        ahead. Users with a region scope compute their own rollups from the same cached rows."""
        backend.briefs()
        stats_data(LOCAL_USER, "year", RANKED_DEFAULT, 30, "")

    backend.on_change(warm)

    @app.get("/stats.json", summary="统计：指标目录、分组汇总、趋势、分布、排名（最小样本）与下钻")
    def stats_json(
        user: Me, by: str = "year", metric: str = RANKED_DEFAULT, min_n: int = 30, drill: str = ""
    ) -> Response:
        return JSONResponse(stats_data(user, by, metric, min_n, drill))

    @app.get("/stats", include_in_schema=False)
    def stats_page(
        request: Request, user: Me, by: str = "year", metric: str = RANKED_DEFAULT, min_n: int = 30, drill: str = ""
    ) -> Response:
        data = stats_data(user, by, metric, min_n, drill)
        return page(request, "stats.html", data, {"title": "统计", "active": "stats"})

    # --- 导出 ---------------------------------------------------------------------------------

    def export_sheets(user: User, name: str) -> list[exports.Sheet]:
        entries = visible(user)
        reports = [e.report for e in entries]
        if name == "data":
            return exports.data_sheet(reports)
        if name == "findings":
            sheets: list[exports.Sheet] = []
            rows: list[dict[str, Any]] = []
            for e in entries:
                part = exports.findings_sheet([(e.report, e.findings)], review_of(e))
                rows += part[0].rows
                sheets = part
            if not sheets:
                return exports.findings_sheet([])
            return [exports.Sheet(sheets[0].name, sheets[0].columns, rows)]
        if name == "metrics":
            return exports.metrics_sheet(metrics.rollup(rows_for(user)))
        if name == "coverage":
            listed = [name for region, _, name in backend.agencies() if user.sees(region)]
            return exports.coverage_sheet(reports, listed)
        if name == "comparisons":
            return exports.comparison_sheets(comparing.compare_all(reports))
        raise WebError(404, "没有这种导出")

    def exports_data(user: User) -> dict[str, Any]:
        return {
            "reports": sum(1 for b in backend.briefs() if user.sees(b.region)),
            "exports": [
                {
                    "name": name,
                    "title": title,
                    "downloads": {fmt: f"/exports/{name}.{fmt}" for fmt in EXPORT_FORMATS},
                }
                for name, title in EXPORTS.items()
            ],
            "formats": EXPORT_FORMATS,
        }

    @app.get("/exports.json", summary="导出：各种导出的下载地址")
    def exports_json(user: Me) -> Response:
        return JSONResponse(exports_data(user))

    @app.get("/exports", include_in_schema=False)
    def exports_page(request: Request, user: Me) -> Response:
        return page(request, "exports.html", exports_data(user), {"title": "导出", "active": "exports"})

    @app.get("/exports/{name}.{fmt}", summary="下载一种导出（xlsx、csv、parquet、json）")
    def export_download(name: str, fmt: str, user: Me) -> Response:
        if fmt not in EXPORT_FORMATS or name not in EXPORTS:
            raise WebError(404, "没有这种导出")
        data = sheets_bytes(export_sheets(user, name), fmt)
        title = EXPORTS[name].split("（")[0]
        return attachment(data, f"{title}.{fmt}", MEDIA[fmt])
