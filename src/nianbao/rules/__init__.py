"""The review rules (shared/spec/rules.md): registry, selection, and the runner.

``check(report)`` runs every report rule; ``check_collection(reports)`` also runs the rules across
reports. Findings from reading (RD…) come first, as the record holds them. A rule never changes
a value: the record keeps what was printed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from nianbao.record import SEVERITIES, Finding, Report
from nianbao.rules import arithmetic, collection, narrative, structure  # noqa: F401  (registers rules)
from nianbao.rules.base import REGISTRY, Context, Rule, unchecked_summary
from nianbao.rules.collection import groups

__all__ = [
    "REGISTRY",
    "Config",
    "Rule",
    "check",
    "check_across",
    "check_collection",
    "load_config",
    "run_collection_rule",
]

READING_GROUP = "RD"


@dataclass(frozen=True)
class Config:
    """Which rules run and at which severity; read from ``nianbao.toml`` ``[check]`` or the CLI."""

    select: tuple[str, ...] = ()  # codes or groups ("AR", "NA01"); empty = all
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)  # code or group -> new severity
    aggregates: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def wants(self, code: str) -> bool:
        def hit(names: Iterable[str]) -> bool:
            return any(code == n or (code.startswith(n) and len(n) == 2) for n in names)

        return (not self.select or hit(self.select)) and not hit(self.ignore)

    def grade(self, finding: Finding) -> Finding:
        new = self.severity.get(finding.rule) or self.severity.get(finding.rule[:2])
        if not new or new == finding.severity:
            return finding
        return Finding(finding.rule, new, finding.message, finding.cells, finding.location, finding.detail)


def load_config(path: Path | None = None) -> Config:
    """The ``[check]`` table of ``nianbao.toml`` (in ``path`` or the working directory)."""
    path = path or Path("nianbao.toml")
    if not path.is_file():
        return Config()
    data = tomllib.loads(path.read_text(encoding="utf-8")).get("check", {})
    severity = {str(k): str(v) for k, v in (data.get("severity") or {}).items()}
    bad = [v for v in severity.values() if v not in SEVERITIES]
    if bad:
        raise ValueError(f"nianbao.toml: 未知的级别 {bad}（可用 error、warning、notice）")
    aggregates = tuple((a["name"], tuple(a.get("members", ()))) for a in data.get("aggregate", ()))
    return Config(tuple(data.get("select", ())), tuple(data.get("ignore", ())), severity, aggregates)


def _run(rule: Rule, ctx: Context) -> list[Finding]:
    ctx.code, ctx.severity = rule.code, rule.severity
    # The framework, not each rule, keeps an error off what was not read with certainty.
    vouched = (ctx.vouch(f) for f in rule.func(ctx) if isinstance(f, Finding))
    return [f for f in vouched if f is not None]


def check(report: Report, config: Config = Config()) -> list[Finding]:
    """Every selected rule on one report, after the reading findings the record holds; then one
    RD28 notice naming the error-level checks that could not be made on cells not read with certainty."""
    ctx = Context(report)
    found = [f for f in (*report.errors, *report.findings) if f.rule.startswith(READING_GROUP)]
    for rule in REGISTRY.values():
        if rule.scope == "report" and config.wants(rule.code):
            found.extend(_run(rule, ctx))
    found.extend(unchecked_summary(ctx))
    return [config.grade(f) for f in found if config.wants(f.rule)]


def check_collection(reports: list[Report], config: Config = Config()) -> list[list[Finding]]:
    """Findings per report (in the order given): its own rules plus the rules across reports."""
    out = [check(r, config) for r in reports]
    for own, across in zip(out, check_across(reports, config), strict=True):
        own.extend(across)
    return out


def check_across(reports: list[Report], config: Config = Config()) -> list[list[Finding]]:
    """Only the rules across reports (collection scope), per report in the order given: what a
    run that checked each report on its own (in a worker process) adds at the end."""
    out: list[list[Finding]] = [[] for _ in reports]
    contexts = [Context(r) for r in reports]
    for ctx in contexts:
        ctx.aggregates = config.aggregates
    index = {id(r): i for i, r in enumerate(reports)}
    for rule in REGISTRY.values():
        if rule.scope != "collection" or not config.wants(rule.code):
            continue
        for report, finding in run_collection_rule(rule, contexts):
            vouched = contexts[index[id(report)]].vouch(finding)
            if vouched is not None:
                out[index[id(report)]].append(config.grade(vouched))
    return out


def run_collection_rule(rule: Rule, contexts: list[Context]) -> Iterator[tuple[Report, Finding]]:
    """A collection rule on each group it declares (rules.base.GROUPINGS), or on all at once."""
    chosen = [list(g) for kind in rule.group_by for g in groups(kind, contexts)] if rule.group_by else [contexts]
    for group in chosen:
        for hit in rule.func(group):
            yield cast(tuple[Report, Finding], hit)
