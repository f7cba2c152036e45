"""The reading codes (RD…) as data: every code a reader, the extractor or the reading pool may put
on a record, with its severity, its Chinese title and what it tells the user to do.

The review rules' codes live in their declarations (``nianbao.rules.REGISTRY``); together with this
catalogue they are every code a user can meet, select or silence. The reference
(``docs/reading-codes.md``) is generated from here, and tests fail when it is stale, when the code
names a reading code that is not catalogued, or gives one a severity the catalogue does not allow.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadingCode:
    code: str
    severities: tuple[str, ...]  # the first is the usual one
    title: str  # what happened, in Chinese
    advice: str = ""  # what the user can do about it

    @property
    def severity(self) -> str:
        return self.severities[0]


_CODES = (
    ReadingCode("RD01", ("error",), "文件为空、已损坏或无法打开", "请向报送单位索取完整的文件"),
    ReadingCode("RD02", ("error",), "PDF 已加密，需要密码才能读取", "请索取未加密的文件"),
    ReadingCode("RD03", ("error",), "PDF 没有文字层（扫描件），需要文字识别（OCR）", "安装 OCR 组件后再读取"),
    ReadingCode("RD04", ("error",), "不是政府信息公开工作年度报告，或不支持的文件类型"),
    ReadingCode("RD05", ("warning", "error"), "没有找到某张统计表；整份报告都没有可读的统计表时为错误"),
    ReadingCode("RD06", ("warning",), "统计表缺少某一行，或该行未能读取"),
    ReadingCode(
        "RD07", ("warning",), "连写的数字无法唯一拆分，相关单元格未读取（列出全部可能的拆法）", "请对照原件核实"
    ),
    ReadingCode("RD08", ("notice",), "表中有一组数字无法对应到任何行，已忽略"),
    ReadingCode(
        "RD09", ("error",), "读取 DOC/WPS 需要 LibreOffice，但本机未安装", "运行 ./setup.sh 或安装 LibreOffice"
    ),
    ReadingCode("RD10", ("error",), "2019 年以前的报告没有全国统一格式，不在检查范围内"),
    ReadingCode("RD11", ("notice",), "连写数字所在行本身合计不成立，已按表内其他勾稽关系确定拆法", "请核对该行"),
    ReadingCode("RD12", ("notice",), "表二连写数字按正文写明的数字确定了拆法（注明正文原句）", "请对照原件核实"),
    ReadingCode("RD13", ("warning",), "文件中有无法识别的字符，含有这些字符的数字未读取（记为空）"),
    ReadingCode("RD14", ("error",), "读取时间超过上限，文件未读取", "可用 --timeout 放宽时间上限"),
    ReadingCode("RD15", ("error",), "读取所需内存超过上限，文件未读取", "可用 --memory 放宽内存上限"),
    ReadingCode("RD16", ("error",), "文件的大小或结构超过上限（信息中写明是哪一项），文件未读取"),
    ReadingCode("RD17", ("error",), "不是普通文件（设备、管道、套接字或循环、断开的链接），未读取"),
    ReadingCode("RD18", ("warning",), "有位数多得不可能是统计数字的数字，未读取（记为空）"),
    ReadingCode("RD19", ("error",), "读取意外中止（读取进程退出或程序内部错误）", "请把文件提交给 nianbao 的维护者"),
    ReadingCode(
        "RD20", ("warning",), "文字识别（OCR）不能确定的数值，单元格未读取（写明置信度和候选值）", "请对照原件核实"
    ),
    ReadingCode("RD21", ("notice",), "扫描页已用文字识别（OCR）读取", "数值按识别结果记录，请对照原件核实"),
    ReadingCode("RD22", ("warning",), "扫描页未读取：本机未安装文字识别（OCR）组件", "安装 OCR 组件后再读取"),
    ReadingCode("RD25", ("warning",), "填报表中有单元格还没有填写（列出单元格）", "没有发生的事项填 0"),
    ReadingCode("RD26", ("error",), "填报表还没有填写：三张表的数值单元格都是空的"),
    ReadingCode("RD27", ("warning",), "填报表中某一部分的正文还没有填写"),
    ReadingCode("RD28", ("notice",), "某项检查依据的数值未能确定读取，这项检查没有做"),
    ReadingCode("RD29", ("notice",), "看到了像某部分标题的文字，但未能确认是该部分，未据此判断缺少该部分"),
    ReadingCode("RD30", ("notice",), "某部分有像统计表的内容，但未能读取为该表，未据此判断缺少该表"),
    ReadingCode("RD31", ("notice",), "正文中的数字所指范围不确定（如全市、各部门或其他年度），与表格不符只作提示"),
)

READING_CODES: dict[str, ReadingCode] = {c.code: c for c in _CODES}
READING_GROUP = "RD"


def is_reading_code(code: str) -> bool:
    return code in READING_CODES


def reading_reference() -> str:
    """docs/reading-codes.md: every reading code, from the catalogue."""
    lines = [
        "# 读取代码（RD）",
        "",
        "本文件由 `nianbao/errors.py` 生成（`nianbao codes > docs/reading-codes.md`），请勿手工修改。",
        "读取失败和读取中的不确定也是发现：它们说明文件哪里没有读出、为什么，从不表示报告本身有错。",
        "",
        "| 代码 | 级别 | 含义 | 怎么办 |",
        "|---|---|---|---|",
    ]
    for c in _CODES:
        lines.append(f"| {c.code} | {'/'.join(c.severities)} | {c.title} | {c.advice} |")
    return "\n".join(lines) + "\n"
