"""The catalogue of codes as data: every reading code (RD…) a reader, the extractor, the reading
pool or the rules framework may put on a record, and every error a project file can meet (CF…),
each with its severity, its Chinese title, what it tells the user to do and the Chinese message
templates an emitting site fills in.

A site never spells a message itself: it names a code, the template's key and the fields
(:func:`reading`, :func:`read_error`, :func:`config_message`; the extractor's VA02/VA03 notices
:func:`extractor_notice`, whose templates the rules declare too). The helper refuses an unknown code or
key, a severity the code does not allow and fields that are not the template's, so a message
always follows its code's template and every field a user reads is one the catalogue names.

The review rules' codes and message templates live in their declarations
(``nianbao.rules.REGISTRY``); together with this catalogue they are every code a user can meet,
select or silence. The reference (``docs/reading-codes.md``) is generated from here, and tests fail
when it is stale, when the code names a reading code that is not catalogued, or when a message
met on the corpus or the hostile suite does not follow its code's template.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nianbao.record import SEVERITIES, Finding

if TYPE_CHECKING:  # the readers import this module: ReadError is imported where it is built
    from nianbao.readers.errors import ReadError

# Keyword arguments of the helpers: a template field may not take one of these names.
_RESERVED = frozenset({"severity", "cells", "location", "detail"})


class CatalogError(LookupError):
    """An emitting site asked for a code, template or field the catalogue does not hold: a
    programming error, caught by the tests (the sites name their codes literally)."""


@dataclass(frozen=True)
class Template:
    """One Chinese message with named fields (``{cell}``), as :meth:`str.format` fills it."""

    key: str  # how an emitting site names it; "" for a code's only message
    text: str
    severity: str = ""  # "" = the code's usual severity

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.text) if name)

    def fill(self, fields: Mapping[str, object]) -> str:
        given, wanted = set(fields), self.fields
        if given != wanted:
            missing, extra = sorted(wanted - given), sorted(given - wanted)
            raise CatalogError(f"template {self.key or '(only)'!r}: missing fields {missing}, unknown fields {extra}")
        return self.text.format_map(fields)

    def matches(self, message: str) -> bool:
        """Whether ``message`` is this template filled in (any text in place of each field)."""
        return _pattern(self.text).fullmatch(message) is not None


@functools.cache  # a template's pattern, built once however many messages are matched
def _pattern(text: str) -> re.Pattern[str]:
    parts: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(text):
        parts.append(re.escape(literal))
        if name:
            parts.append("(?:.*?)")
    return re.compile("".join(parts), re.S)


def templates(*pairs: tuple[str, str] | tuple[str, str, str]) -> tuple[Template, ...]:
    return tuple(Template(*pair) for pair in pairs)


@dataclass(frozen=True)
class ReadingCode:
    code: str
    severities: tuple[str, ...]  # the first is the usual one
    title: str  # what happened, in Chinese
    advice: str = ""  # what the user can do about it
    messages: tuple[Template, ...] = ()

    @property
    def severity(self) -> str:
        return self.severities[0]

    def template(self, key: str = "") -> Template:
        for t in self.messages:
            if t.key == key:
                return t
        raise CatalogError(f"{self.code} has no message template {key!r}")

    def matches(self, message: str) -> bool:
        return any(t.matches(message) for t in self.messages)


_CODES = (
    ReadingCode(
        "RD01",
        ("error",),
        "文件为空、已损坏或无法打开",
        "请向报送单位索取完整的文件",
        templates(
            ("empty", "文件为空，没有可读取的内容"),
            ("no_text", "文件中没有可读取的文字内容"),
            ("open", "无法打开文件：{reason}"),
            ("unreadable", "文件无法读取（文件已损坏或格式不受支持）"),
            ("docx_member", "Word 文件中没有正文（缺少 word/document.xml），文件已损坏或不是 DOCX 格式"),
            ("docx_zip", "Word 文件已损坏或不是 DOCX 格式（压缩包无法打开）"),
            ("docx_xml", "Word 文件内容无法解析（第 {line} 行）"),
            ("docx_body", "Word 文件没有正文"),
            ("xlsx", "Excel 文件已损坏或不是 XLSX 格式"),
            ("html", "网页无法解析（文件已损坏或不是网页）"),
            ("html_empty", "网页没有可读取的内容"),
            ("pdf", "PDF 文件已损坏，无法打开"),
            ("pdf_pages", "PDF 页面无法读取（文件已损坏）"),
            ("pdf_blank", "PDF 页面上没有任何内容（没有文字，也没有图片或图形）：文件已损坏或被截断"),
            ("office_timeout", "LibreOffice 转换超时（{seconds} 秒）"),
            ("office_failed", "LibreOffice 无法转换该文件（可能已损坏或加密）：{name}"),
            ("render_failed", "LibreOffice 未能生成 {target}：{name}"),
            ("image", "图片文件已损坏，无法打开"),
            ("image_size", "第 {page} 页图片过大（{width}×{height} 像素），未读取"),
        ),
    ),
    ReadingCode(
        "RD02",
        ("error",),
        "PDF 已加密，需要密码才能读取",
        "请索取未加密的文件",
        templates(("", "PDF 已加密，需要密码才能读取")),
    ),
    ReadingCode(
        "RD03",
        ("error",),
        "PDF 没有文字层（扫描件），需要文字识别（OCR）",
        "安装 OCR 组件后再读取",
        templates(
            ("", "PDF 没有文字层（扫描件或图片），需要先做文字识别（OCR）"),
            ("not_installed", "{what}需要文字识别（OCR），本机未安装 OCR 组件；请运行 {command} 安装后重新读取"),
            (
                "models",
                "OCR 模型文件缺失：{folder} 下没有 {files}（nianbao 不在运行时下载模型）；请重新安装：{command}",
            ),
        ),
    ),
    ReadingCode(
        "RD04",
        ("error",),
        "不是政府信息公开工作年度报告，或不支持的文件类型",
        "",
        templates(
            ("", "这不是政府信息公开工作年度报告（没有找到年报的章节和统计表）"),
            ("type", "不支持的文件类型：{suffix}（文件内容不是可识别的报告格式）"),
            ("script", "脚本或数据文件中没有网页内容，不是年度报告"),
            ("mht", "MHT 文件中没有网页内容，不是年度报告"),
        ),
    ),
    ReadingCode(
        "RD05",
        ("warning", "error"),
        "没有找到某张统计表；整份报告都没有可读的统计表时为错误",
        "",
        templates(
            ("missing", "未找到{table}"),
            ("values", "未能读取{table}的数值"),
            ("no_tables", "找到了报告的章节，但没有找到可读取的统计表（可能以图片形式印制）", "error"),
        ),
    ),
    ReadingCode(
        "RD06",
        ("warning",),
        "统计表缺少某一行，或该行未能读取",
        "",
        templates(("table2", "表二缺少“{row}”行（或未能读取）"), ("table3", "表三缺少“{row}”行（或该行未能读取）")),
    ),
    ReadingCode(
        "RD07",
        ("warning",),
        "连写的数字无法唯一拆分，相关单元格未读取（列出全部可能的拆法）",
        "请对照原件核实",
        templates(
            (
                "splits",
                "{row}，{basis}，仍有 {count} 种拆法：{options}。无法确定的单元格未读取（记为空），请对照原件核实。",
            ),
            ("none", "{table}“{title}”行的数字“{printed}”无法拆分为本行应有的数值，该行未读取，请对照原件核实。"),
        ),
    ),
    ReadingCode(
        "RD08",
        ("notice",),
        "表中有一组数字无法对应到任何行，已忽略",
        "",
        templates(("", "表三中有一组数字（“{printed}”）无法对应到任何行，已忽略")),
    ),
    ReadingCode(
        "RD09",
        ("error",),
        "读取 DOC/WPS 需要 LibreOffice，但本机未安装",
        "运行 ./setup.sh 或安装 LibreOffice",
        templates(
            ("read", "读取 {suffix} 文件需要 LibreOffice，但本机未安装。{hint}"),
            ("write", "生成 {target} 需要 LibreOffice，但本机未安装。{hint}"),
        ),
    ),
    ReadingCode(
        "RD10",
        ("error",),
        "2019 年以前的报告没有全国统一格式，不在检查范围内",
        "",
        templates(("", "这是 {year} 年度的报告：2019 年以前的年报没有全国统一格式，不在检查范围内")),
    ),
    ReadingCode(
        "RD11",
        ("notice",),
        "连写数字所在行本身合计不成立，已按表内其他勾稽关系确定拆法",
        "请核对该行",
        templates(("", "{row}，本行合计不成立，已按表内其他勾稽关系唯一确定拆法；请核对该行。")),
    ),
    ReadingCode(
        "RD12",
        ("notice",),
        "表二连写数字按正文写明的数字确定了拆法（注明正文原句）",
        "请对照原件核实",
        templates(("", "{row}，{basis}拆为 {values}，请对照原件核实。")),
    ),
    ReadingCode(
        "RD13",
        ("warning",),
        "文件中有无法识别的字符，含有这些字符的数字未读取（记为空）",
        "",
        templates(
            (
                "",
                "文件中有 {count} 个字符无法识别（PDF 字体缺少文字映射，或文字编码有误）；"
                "含有这些字符的数字未读取（记为空），请对照原件核实。",
            )
        ),
    ),
    ReadingCode(
        "RD14",
        ("error",),
        "读取时间超过上限，文件未读取",
        "可用 --timeout 放宽时间上限",
        templates(("", "读取时间超过上限（{seconds:g} 秒），已停止读取该文件")),
    ),
    ReadingCode(
        "RD15",
        ("error",),
        "读取所需内存超过上限，文件未读取",
        "可用 --memory 放宽内存上限",
        templates(("", "读取该文件所需内存超过上限（{size}），已停止读取")),
    ),
    ReadingCode(
        "RD16",
        ("error",),
        "文件的大小或结构超过上限（信息中写明是哪一项），文件未读取",
        "",
        templates(
            ("", "{what}超过上限（{found}，上限 {limit}），文件未读取"),
            ("nesting", "文件的嵌套层次过深，超过上限，文件未读取"),
            ("pdf_loop", "PDF 中有引用自身的对象（第 {object} 号对象循环引用），文件未读取"),
            ("pdf_token", "PDF 第 {page} 页中有长于 {cap} 的字符串或注释（上限 {cap}），文件未读取"),
        ),
    ),
    ReadingCode(
        "RD17",
        ("error",),
        "不是普通文件（设备、管道、套接字或循环、断开的链接），未读取",
        "",
        templates(
            ("link_loop", "符号链接循环指向自身，无法读取"),
            ("link_dangling", "符号链接指向的文件不存在"),
            ("folder", "这是一个文件夹，不是文件"),
            ("device", "这是一个设备文件，不是报告文件，不读取"),
            ("fifo", "这是一个命名管道（FIFO），不是报告文件，不读取"),
            ("socket", "这是一个套接字，不是报告文件，不读取"),
            ("other", "这不是普通文件，不读取"),
        ),
    ),
    ReadingCode(
        "RD18",
        ("warning",),
        "有位数多得不可能是统计数字的数字，未读取（记为空）",
        "",
        templates(
            (
                "",
                "文件中有一个 {digits} 位的数字，超过数字位数上限（{limit} 位），不当作数字读取（记为空值），请核对原件",
            )
        ),
    ),
    ReadingCode(
        "RD19",
        ("error",),
        "读取或检查意外中止（读取进程退出或程序内部错误）",
        "请把文件提交给 nianbao 的维护者",
        templates(
            ("process", "读取进程意外终止（{why}），该文件未读取"),
            ("extract", "读取报告内容时程序出错，该文件未能读取；请把文件提交给 nianbao 的维护者"),
            ("rule", "规则 {rule} 程序内部错误（{why}），该发现未报告；请把文件提交给 nianbao 的维护者"),
        ),
    ),
    ReadingCode(
        "RD20",
        ("warning",),
        "文字识别（OCR）不能确定的数值，单元格未读取（写明置信度和候选值）",
        "请对照原件核实",
        templates(
            (
                "cell",
                "{cell}的数字识别不确定（置信度 {confidence:.2f}），重新识别后仍无法确定，未读取（记为空）；"
                "候选：{candidates}。请对照原件核实",
            ),
            (
                "row",
                "{cell}所在行：扫描件中该行的表格线缺失或不完整，识别到的数字（{digits}）少于本行的单元格，"
                "无法确定各数字所在的列，该行数字未读取（记为空）。请对照原件核实",
            ),
        ),
    ),
    ReadingCode(
        "RD21",
        ("notice",),
        "扫描页已用文字识别（OCR）读取",
        "数值按识别结果记录，请对照原件核实",
        templates(("", "第 {pages} 页是扫描页，已用文字识别（OCR）读取{turns}；数值按识别结果记录，请对照原件核实")),
    ),
    ReadingCode(
        "RD22",
        ("warning",),
        "扫描页未读取：本机未安装文字识别（OCR）组件",
        "安装 OCR 组件后再读取",
        templates(("", "第 {pages} 页是扫描页（没有文字层），本机未安装 OCR 组件，未读取；请运行 {command} 安装")),
    ),
    ReadingCode(
        "RD25",
        ("warning",),
        "填报表中有单元格还没有填写（列出单元格）",
        "没有发生的事项填 0",
        templates(("", "工作表“{sheet}”有 {count} 个单元格还没有填写：{listed}（没有发生的事项填 0）")),
    ),
    ReadingCode(
        "RD26",
        ("error",),
        "填报表还没有填写：三张表的数值单元格都是空的",
        "",
        templates(("", "填报表还没有填写：三张表的 {count} 个黄色单元格都是空的（没有发生的事项填 0）")),
    ),
    ReadingCode(
        "RD27",
        ("warning",),
        "填报表中某一部分的正文还没有填写",
        "",
        templates(("", "工作表“{sheet}”的 A2 单元格（该部分的正文）还没有填写")),
    ),
    ReadingCode(
        "RD28",
        ("notice",),
        "某项检查依据的数值未能确定读取，这项检查没有做",
        "",
        templates(
            ("", "{subjects}未能确定读取（见 {codes}），规则 {rules} 涉及这些内容的检查未进行，请对照原件人工核对")
        ),
    ),
    ReadingCode(
        "RD29",
        ("notice",),
        "看到了像某部分标题的文字，但未能确认是该部分，未据此判断缺少该部分",
        "",
        templates(
            (
                "",
                "未能确认第{numeral}部分“{title}”的标题：报告中有“{line}”，可能是该部分的标题"
                "（或其小标题），但未能按标题读取；未作为缺少该部分报告，请对照原件核实",
            )
        ),
    ),
    ReadingCode(
        "RD30",
        ("notice",),
        "某部分有像统计表的内容，但未能读取为该表，未据此判断缺少该表",
        "",
        templates(
            (
                "",
                "第{numeral}部分有表格样的内容，但未能读取为{table}（可能以图片印制，或格式无法识别）；"
                "未作为缺少统计表报告，请对照原件核实",
            )
        ),
    ),
    ReadingCode(
        "RD31",
        ("notice",),
        "正文中的数字所指范围不确定（如全市、各部门或其他年度），与表格不符只作提示",
        "",
        templates(("", "{finding}；但该句{why}，未作为错误报告，请人工核对")),
    ),
)

READING_CODES: dict[str, ReadingCode] = {c.code: c for c in _CODES}
READING_GROUP = "RD"


def is_reading_code(code: str) -> bool:
    return code in READING_CODES


def _code(code: str) -> ReadingCode:
    try:
        return READING_CODES[code]
    except KeyError:
        raise CatalogError(f"{code} is not a catalogued reading code") from None


def reading_message(code: str, key: str = "", /, **fields: object) -> str:
    """The Chinese message of ``code``'s template ``key``, filled with ``fields``."""
    return _code(code).template(key).fill(fields)


def reading(
    code: str,
    key: str = "",
    /,
    *,
    severity: str = "",
    cells: Iterable[str] = (),
    location: Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
    **fields: object,
) -> Finding:
    """A reading finding: ``code``'s template ``key`` filled with ``fields``, at the template's
    severity (or ``severity``, which the code must allow), naming ``cells`` and ``location``."""
    entry = _code(code)
    template = entry.template(key)
    severity = severity or template.severity or entry.severity
    if severity not in entry.severities:
        raise CatalogError(f"{code} is never {severity!r} (allowed: {entry.severities})")
    message = template.fill(fields)
    return Finding(code, severity, message, tuple(cells), dict(location or {}), dict(detail or {}))


def read_error(code: str, key: str = "", /, **fields: object) -> ReadError:
    """The reading error (raised by a reader; an ``error`` finding on the record) for ``code``."""
    from nianbao.readers.errors import ReadError

    if "error" not in _code(code).severities:
        raise CatalogError(f"{code} is never an error")
    return ReadError(code, reading_message(code, key, **fields))


def message_follows(code: str, message: str) -> bool:
    """Whether ``message`` is one of the templates of reading code ``code`` filled in."""
    entry = READING_CODES.get(code)
    return entry is not None and entry.matches(message)


# --- notices the extractor gives under a review rule's code ------------------------------------

# The extractor notes blank cells (VA02) and a sum printed in 元 (VA03) as it reads them; the rule
# declares these same templates (rules/arithmetic.py), so the two cannot drift apart.
EXTRACTOR_NOTICES: dict[str, Template] = {
    "VA02": Template(
        "blank",
        "{table}有 {count} 个单元格未填数字（空白、“-”、“/”或“无”）{columns}，已记为空；按格式应填写 0。",
        "notice",
    ),
    "VA03": Template(
        "yuan", "表二“政府集中采购”采购总金额按“元”印制（“{printed}”），格式未规定单位，请注意换算。", "notice"
    ),
}


def extractor_notice(code: str, /, *, cells: Iterable[str], location: Mapping[str, Any], **fields: object) -> Finding:
    """The extractor's notice under rule ``code`` (VA02, VA03), filled with ``fields``."""
    try:
        template = EXTRACTOR_NOTICES[code]
    except KeyError:
        raise CatalogError(f"{code} is not a notice the extractor gives") from None
    return Finding(code, template.severity, template.fill(fields), tuple(cells), dict(location))


# --- the project file (nianbao.toml) and the rule selection -----------------------------------


@dataclass(frozen=True)
class ConfigCode:
    code: str
    title: str
    template: Template


def _config(code: str, title: str, text: str) -> ConfigCode:
    return ConfigCode(code, title, Template("", text, "error"))


_CONFIG = (
    _config("CF01", "命名的项目文件不存在", "找不到项目文件 {path}"),
    _config("CF02", "项目文件不是 UTF-8 编码的文本", "项目文件 {path} 不是 UTF-8 编码的文本"),
    _config("CF03", "项目文件无法读取", "项目文件 {path} 无法读取"),
    _config("CF04", "项目文件不是正确的 TOML", "项目文件 {path} 的{where}写法有误（应为 TOML 格式）"),
    _config("CF05", "不认识的设置", "{where}中有不认识的设置：{keys}（可用：{allowed}）"),
    _config("CF06", "设置应为一个表", "{where} 应为一个表"),
    _config("CF07", "设置应为一个列表", "{where} 应为一个列表"),
    _config("CF08", "设置应为文字的列表", '{key} 应为文字的列表，如 ["AR", "NA01"]'),
    _config("CF09", "未知的级别", "[check.severity] 中有未知的级别 {levels}（可用 error、warning、notice）"),
    _config("CF10", "汇总报告没有写机关名称", "[[check.aggregate]] 缺少汇总报告的机关名称 name"),
    _config("CF11", "没有这样的规则或代码", "没有这样的规则或代码：{codes}（nianbao rules 列出全部规则）"),
)

CONFIG_CODES: dict[str, ConfigCode] = {c.code: c for c in _CONFIG}


def config_message(code: str, /, **fields: object) -> str:
    """The Chinese message of the project-file error ``code``, filled with ``fields``."""
    try:
        entry = CONFIG_CODES[code]
    except KeyError:
        raise CatalogError(f"{code} is not a catalogued project-file error") from None
    return entry.template.fill(fields)


def _catalogue_is_sound() -> None:
    """Checked once at import: a catalogue that breaks its own rules fails at once, not in use."""
    for c in _CODES:
        assert c.messages, f"{c.code} has no message template"
        assert all(s in SEVERITIES for s in c.severities), c.code
        assert len({t.key for t in c.messages}) == len(c.messages), f"{c.code}: a template key twice"
        for t in c.messages:
            assert not t.severity or t.severity in c.severities, f"{c.code} {t.key}"
            assert not t.fields & _RESERVED, f"{c.code} {t.key}: a field named like a helper argument"


_catalogue_is_sound()


# --- the reference ----------------------------------------------------------------------------


def reading_table() -> list[str]:
    """The table of reading codes (docs/reading-codes.md, and the README's copy)."""
    lines = ["| 代码 | 级别 | 含义 | 怎么办 |", "|---|---|---|---|"]
    lines += [f"| {c.code} | {'/'.join(c.severities)} | {c.title} | {c.advice} |" for c in _CODES]
    return lines


def _shown(template: Template) -> str:
    severity = f"（{template.severity}）" if template.severity else ""
    return f"- `{template.key or '—'}`{severity}：{template.text}"


def reading_reference() -> str:
    """docs/reading-codes.md: every reading code and project-file error, from the catalogue."""
    lines = [
        "# 读取代码（RD）",
        "",
        "本文件由 `nianbao/errors.py` 生成（`nianbao codes > docs/reading-codes.md`），请勿手工修改。",
        "读取失败和读取中的不确定也是发现：它们说明文件哪里没有读出、为什么，从不表示报告本身有错。",
        "",
        *reading_table(),
        "",
        "## 消息模板",
        "",
        "每条读取发现的信息都由下列模板之一填写而成（花括号内是填入的内容）。",
        "",
    ]
    for c in _CODES:
        lines += [f"### {c.code}", "", *(_shown(t) for t in c.messages), ""]
    lines += [
        "## 读取时给出的规则提示",
        "",
        "读取表格时发现的空白单元格（VA02）和按“元”印制的金额（VA03）以规则代码给出，其信息模板与规则的声明相同。",
        "",
        *(f"- {code}：{t.text}" for code, t in EXTRACTOR_NOTICES.items()),
        "",
        "## 项目文件错误（CF）",
        "",
        "项目文件 nianbao.toml 或命令行的规则选择有误时，命令以退出码 2 结束并给出下列信息之一。",
        "",
        "| 代码 | 含义 | 信息 |",
        "|---|---|---|",
        *(f"| {c.code} | {c.title} | {c.template.text} |" for c in _CONFIG),
    ]
    return "\n".join(lines) + "\n"
