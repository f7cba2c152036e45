"""Rules on the tables' own arithmetic and on the values themselves (AR, VA)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from nianbao import formats
from nianbao.errors import EXTRACTOR_NOTICES
from nianbao.record import Finding
from nianbao.rules.base import Context, cell_name, column_label, fmt, rule, t3_row_label

T3_COLUMNS = [c.key for c in formats.TABLE3_COLUMNS]


@rule(
    "AR01",
    "表三勾稽关系",
    "error",
    ("table3",),
    messages=(
        "表三“{column}”列：新收 {new} + 上年结转 {carried_in} = {left}，办理结果总计 {total} + 结转下年度 {forward} = {right}，相差 {difference}{blanks}",
    ),
)
def ar01(ctx: Context) -> Iterator[Finding]:
    """表三每一列：本年新收 + 上年结转 = 办理结果总计 + 结转下年度继续办理。

    这是表三表头印明的勾稽关系（第一项加第二项之和，等于第三项加第四项之和）。
    错误示例：“自然人”列新收 12、上年结转 0，办理结果总计 10、结转下年度 1（12 ≠ 11）。
    正确示例：“自然人”列新收 12、上年结转 0，办理结果总计 11、结转下年度 1（12 = 12）。
    """
    for c in T3_COLUMNS:
        paths = [f"table3/{k}/{c}" for k in ("new", "carried_in", "total", "carried_forward")]
        values = ctx.nums(paths)
        if values is None:
            continue
        new, carried_in, total, forward = values
        if new + carried_in != total + forward:
            yield ctx.say(
                1,
                paths,
                column=column_label(c),
                new=ctx.printed(paths[0]),
                carried_in=ctx.printed(paths[1]),
                left=fmt(new + carried_in),
                total=ctx.printed(paths[2]),
                forward=ctx.printed(paths[3]),
                right=fmt(total + forward),
                difference=fmt(abs(new + carried_in - total - forward)),
                blanks=ctx.blanks_among(paths),
            )


@rule(
    "AR02",
    "表三办理结果合计",
    "error",
    ("table3",),
    messages=("表三“{column}”列：各项办理结果之和为 {sum}，（七）总计{total}，相差 {difference}{blanks}",),
)
def ar02(ctx: Context) -> Iterator[Finding]:
    """表三每一列：（七）总计 = 各项办理结果之和（按报告实际印制的行）。

    错误示例：“总计”列予以公开 20、不予公开 6，其余为 0，（七）总计印为 20（应为 26）。
    正确示例：“总计”列予以公开 20、不予公开 6，其余为 0，（七）总计 26。
    """
    results = formats.table3_result_keys(ctx.t3_keys())
    for c in T3_COLUMNS:
        total = ctx.num(f"table3/total/{c}")
        parts = ctx.nums(f"table3/{k}/{c}" for k in results)
        if total is None or parts is None or not results:
            continue
        if sum(parts) != total:
            yield ctx.say(
                1,
                [f"table3/total/{c}", *(f"table3/{k}/{c}" for k in results)],
                column=column_label(c),
                sum=fmt(sum(parts)),
                total=_as_printed(ctx, f"table3/total/{c}"),
                difference=fmt(abs(sum(parts) - total)),
                blanks=ctx.blanks_among(f"table3/{k}/{c}" for k in ["total", *results]),
            )


@rule(
    "AR03",
    "表三行合计",
    "error",
    ("table3",),
    messages=(
        "表三“{row}”行：各类申请人之和为 {sum}，总计{total}，相差 {difference}{blanks}",
        "表三“总计”列各行均空白，其中 {count} 行的各类申请人之和不为 0：总计列应填写各行之和",
    ),
)
def ar03(ctx: Context) -> Iterator[Finding]:
    """表三每一行：“总计”列 = 自然人与五类法人或其他组织之和。

    错误示例：“予以公开”行自然人 5、商业企业 2，其余为 0，总计印为 5（应为 7）。
    正确示例：“予以公开”行自然人 5、商业企业 2，其余为 0，总计 7。
    """
    blank_total = _blank_total_column(ctx)
    if blank_total is not None:
        yield blank_total
        return
    for key in ctx.t3_keys():
        parts = ctx.nums(f"table3/{key}/{c}" for c in formats.TABLE3_APPLICANT_COLUMNS)
        total = ctx.num(f"table3/{key}/total")
        if parts is None or total is None:
            continue
        if sum(parts) != total:
            yield ctx.say(
                1,
                [f"table3/{key}/total", *(f"table3/{key}/{c}" for c in formats.TABLE3_APPLICANT_COLUMNS)],
                row=t3_row_label(key),
                sum=fmt(sum(parts)),
                total=_as_printed(ctx, f"table3/{key}/total"),
                difference=fmt(abs(sum(parts) - total)),
                blanks=ctx.blanks_among(f"table3/{key}/{c}" for c in T3_COLUMNS),
            )


@rule(
    "AR04",
    "表四合计",
    "error",
    ("table4",),
    messages=(
        "表四“{group}”：结果维持 {upheld} + 结果纠正 {corrected} + 其他结果 {other} + 尚未审结 {pending} = {sum}，总计{total}",
    ),
)
def ar04(ctx: Context) -> Iterator[Finding]:
    """表四每一组：总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结。

    错误示例：行政复议结果维持 10、结果纠正 1，其余为 0，总计印为 0。
    正确示例：行政复议结果维持 10、结果纠正 1，其余为 0，总计 11。
    """
    for group in formats.TABLE4_GROUPS:
        parts_paths = [f"table4/{group.key}/{o}" for o in ("upheld", "corrected", "other", "pending")]
        parts = ctx.nums(parts_paths)
        total = ctx.num(f"table4/{group.key}/total")
        if parts is None or total is None:
            continue
        if sum(parts) != total:
            upheld, corrected, other, pending = (fmt(p) for p in parts)
            yield ctx.say(
                1,
                [f"table4/{group.key}/total", *parts_paths],
                group=group.label,
                upheld=upheld,
                corrected=corrected,
                other=other,
                pending=pending,
                sum=fmt(sum(parts)),
                total=_as_printed(ctx, f"table4/{group.key}/total"),
            )


def _all_cells(ctx: Context) -> Iterator[tuple[str, int | float | None, bool]]:
    """(path, value, is_money) of every cell of the three tables."""
    r = ctx.report
    money = {
        f"table2/{row.key}/{col}"
        for layout in formats.TABLE2_ROWS.values()
        for row in layout
        for col in row.money_columns
    }
    for table in ("table2", "table3", "table4"):
        for key, cols in (getattr(r, table) or {}).items():
            for col, value in cols.items():
                path = f"{table}/{key}/{col}"
                yield path, value, path in money


@rule(
    "VA01",
    "数值无效",
    "error",
    ("table2", "table3", "table4"),
    messages=("{cell}为负数（{value}）", "{cell}是件数，不应为小数（{value}）"),
)
def va01(ctx: Context) -> Iterator[Finding]:
    """件数为负数或小数，或金额为负数。

    表二 2019 年格式的“本年增/减”可以为负数，不在此列。
    错误示例：表三“予以公开”行自然人印为 -1，或“重复申请”行印为 1.5。
    正确示例：件数为 0 或正整数，金额不为负。
    """
    for path, value, money in _all_cells(ctx):
        if value is None or formats.is_signed(path):
            continue
        if value < 0:
            yield ctx.say(1, [path], cell=cell_name(path), value=fmt(value))
        elif not money and isinstance(value, float) and not value.is_integer():
            yield ctx.say(2, [path], cell=cell_name(path), value=fmt(value))


@rule(
    "VA02",
    "空白单元格",
    "notice",
    ("table2", "table3", "table4"),
    messages=(EXTRACTOR_NOTICES["VA02"].text,),
)
def va02(ctx: Context) -> Iterator[Finding]:
    """应填数字的单元格印为空白、“-”、“—”、“/”或“无”（按 0 计算，但格式要求填 0）。

    读取时记录的空白单元格在此报告；勾稽检查把它们当作 0。
    错误示例：表三“法人或其他组织”各列全部留空。
    正确示例：没有发生的事项填 0。
    """
    for f in ctx.report.findings:
        if f.rule == "VA02":
            yield ctx.finding(f.message, f.cells, f.location)


_SMALL_UNIT_RE = re.compile(r"街道|乡|镇|社区|办事处|县.{1,12}(局|委|办|中心|所|站)|区.{1,12}(局|委|办|中心|所|站)")
_YUAN_RE = re.compile(r"(?P<n>\d[\d,]*(?:\.\d+)?)\s*元")


@rule(
    "VA03",
    "收费金额单位",
    "warning",
    ("table2", "sections"),
    messages=(
        "表二行政事业性收费金额为 {value} 万元（即 {yi} 亿元），对“{agency}”明显偏大，请确认单位是否为万元",
        "表二行政事业性收费金额 {value} 与正文“{quote}”相同，正文以元计，表内应以万元计",
        EXTRACTOR_NOTICES["VA03"].text,
    ),
    also_severities=("notice",),
)
def va03(ctx: Context) -> Iterator[Finding]:
    """表二“行政事业性收费”本年收费金额以万元计，填入的数值看起来是按元填写的。

    一个基层单位收费上亿（≥ 10,000 万元），或表内数值恰好等于正文中以“元”表述的金额，多半是把元填进了万元栏。
    错误示例：某街道办事处收费金额填 35000（正文写“收费 35000 元”）。
    正确示例：填 3.5（单位：万元）。
    """
    path = "table2/fees/amount_10k_yuan"
    value = ctx.num(path)
    if not value:
        return
    agency = ctx.report.agency or ""
    if value >= 10000 and _SMALL_UNIT_RE.search(agency):
        yield ctx.say(1, [path], value=fmt(value), yi=fmt(value / 10000), agency=agency)
        return
    for m in _YUAN_RE.finditer(ctx.text()):
        if float(m.group("n").replace(",", "")) == float(value) and value >= 100:
            yield ctx.say(2, [path], value=fmt(value), quote=m.group(0))
            return


def _as_printed(ctx: Context, path: str) -> str:
    """“印为 5”, or “空白” for a total printed blank (never “印为 0” for a cell with nothing in it)."""
    shown = ctx.printed(path)
    return "空白" if shown == "空白" else f"印为 {shown}"


def _blank_total_column(ctx: Context) -> Finding | None:
    """AR03 once for a 总计 column printed blank in every row while the rows hold applications:
    one cause, where a finding per row said “总计印为 0” two dozen times."""
    keys = ctx.t3_keys()
    totals = [f"table3/{k}/total" for k in keys]
    if len(keys) < 2 or any(ctx.printed(p) != "空白" for p in totals):
        return None
    rows = [ctx.nums(f"table3/{k}/{c}" for c in formats.TABLE3_APPLICANT_COLUMNS) for k in keys]
    nonzero = sum(1 for parts in rows if parts is not None and sum(parts) != 0)
    if not nonzero:
        return None
    return ctx.say(
        2, [*totals, *(f"table3/{k}/{c}" for k in keys for c in formats.TABLE3_APPLICANT_COLUMNS)], count=nonzero
    )
