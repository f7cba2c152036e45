"""The rule reference (docs/rules.md), generated from the rule declarations."""

from __future__ import annotations

from nianbao.rules.base import REGISTRY, Rule

GROUPS = {
    "RD": "读取",
    "AR": "表内勾稽与合计",
    "VA": "数值",
    "ST": "结构与格式",
    "NA": "正文",
    "PL": "合理性",
    "XY": "跨年度、跨单位",
    "PU": "发布",
}
SEVERITY = {"error": "错误（error）", "warning": "警告（warning）", "notice": "提示（notice）"}


def rules_reference() -> str:
    """docs/rules.md: one section per rule, from its declaration and docstring."""
    lines = [
        "# 审核规则",
        "",
        "本文件由规则声明生成（`nianbao rules > docs/rules.md`），请勿手工修改。",
        "规则代码是稳定的公开名称：用 `--select`、`--ignore` 或 `nianbao.toml` 选择、忽略或调整级别。",
        "",
        "| 代码 | 名称 | 级别 | 范围 | 检查内容 |",
        "|---|---|---|---|---|",
    ]
    for r in REGISTRY.values():
        scope = "跨报告" if r.scope == "collection" else "单份报告"
        lines.append(f"| [{r.code}](#{r.code.lower()}) | {r.name} | {r.severity} | {scope} | {r.summary} |")
    lines.append("")
    for r in REGISTRY.values():
        body = [line for line in r.doc.splitlines()[1:] if not line.startswith(("错误示例：", "正确示例："))]
        lines += [
            f"## {r.code}",
            "",
            f"**{r.name}** · {SEVERITY[r.severity]} · 组 {r.group}（{GROUPS.get(r.group, '')}） · 适用于：{'、'.join(r.applies_to)}",
            "",
            r.summary,
            "",
            *[line for line in body if line.strip()],
            "",
            f"- 错误示例：{r.example('wrong')}",
            f"- 正确示例：{r.example('right')}",
            *_emits(r),
            "",
        ]
    lines += [
        "## 读取发现（RD）",
        "",
        "读取失败和读取中的不确定也是发现，代码以 RD 开头，见 README 的“读取代码”表。",
        "",
    ]
    return "\n".join(lines)


def _emits(r: Rule) -> list[str]:
    """The rule's message templates (花括号内是填入的内容), and what else it may emit."""
    lines = [f"- 信息：{t.text}" for t in r.messages]
    if r.also_severities:
        lines.append(f"- 也可能为：{'、'.join(SEVERITY[s] for s in r.also_severities)}")
    if r.also_codes:
        lines.append(f"- 也可能给出读取提示：{'、'.join(r.also_codes)}")
    return lines
