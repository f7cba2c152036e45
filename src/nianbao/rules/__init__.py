"""The review rules (shared/spec/rules.md): registry, selection, and the runner.

``check(report)`` runs every report rule; ``check_collection(reports)`` also runs the rules across
reports. Findings from reading (RD…) come first, as the record holds them. A rule never changes
a value: the record keeps what was printed.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from nianbao.errors import READING_CODES, config_message
from nianbao.record import SEVERITIES, Finding, Report
from nianbao.rules import arithmetic, collection, narrative, structure  # noqa: F401  (registers rules)
from nianbao.rules.base import REGISTRY, Context, Rule, unchecked_summary
from nianbao.rules.collection import groups

__all__ = [
    "REGISTRY",
    "Config",
    "ConfigError",
    "Rule",
    "check",
    "check_across",
    "check_collection",
    "checked",
    "load_config",
    "run_collection_rule",
]

READING_GROUP = "RD"  # reading findings' codes (nianbao.errors)


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


class ConfigError(ValueError):
    """A project file or a rule selection that cannot be what the user meant: a usage error.
    ``code`` is its entry in the catalogue (CF…, nianbao.errors), the message that entry's template."""

    def __init__(self, code: str, **fields: object) -> None:
        super().__init__(config_message(code, **fields))
        self.code = code


_CHECK_KEYS = ("select", "ignore", "severity", "aggregate")
_AGGREGATE_KEYS = ("name", "members")


def load_config(path: Path | None = None) -> Config:
    """The ``[check]`` table of ``nianbao.toml`` (``path``, or the working directory's when there is
    one). Nothing is passed over in silence: a project file named but absent, a key nianbao does not
    know, a value of the wrong kind or an unknown rule code is a :class:`ConfigError`."""
    explicit = path is not None
    path = path or Path("nianbao.toml")
    if not path.is_file():
        if explicit:
            raise ConfigError("CF01", path=path)
        return Config()
    document = _toml(path)
    _no_unknown_keys(document, ("check",), f"项目文件 {path}")
    data = _table(document.get("check", {}), "[check]")
    _no_unknown_keys(data, _CHECK_KEYS, "[check]")
    severity = {str(k): str(v) for k, v in _table(data.get("severity", {}), "[check.severity]").items()}
    bad = [v for v in severity.values() if v not in SEVERITIES]
    if bad:
        raise ConfigError("CF09", levels="、".join(bad))
    aggregates: list[tuple[str, tuple[str, ...]]] = []
    for entry in _list(data.get("aggregate", []), "[[check.aggregate]]"):
        entry = _table(entry, "[[check.aggregate]]")
        _no_unknown_keys(entry, _AGGREGATE_KEYS, "[[check.aggregate]]")
        if not isinstance(entry.get("name"), str):
            raise ConfigError("CF10")
        aggregates.append((str(entry["name"]), tuple(_strings(entry.get("members", []), "members"))))
    config = Config(
        tuple(_strings(data.get("select", []), "select")),
        tuple(_strings(data.get("ignore", []), "ignore")),
        severity,
        tuple(aggregates),
    )
    return checked(config)


def checked(config: Config) -> Config:
    """The config, once every code it names is a rule, a rule group or a reading code."""
    named = [*config.select, *config.ignore, *config.severity]
    unknown = [c for c in named if not known_code(c)]
    if unknown:
        raise ConfigError("CF11", codes="、".join(dict.fromkeys(unknown)))
    return config


def known_code(name: str) -> bool:
    """A rule code, a reading code, or a group of them (``AR``, ``RD``)."""
    groups = {code[:2] for code in REGISTRY} | {READING_GROUP}
    return name in REGISTRY or name in READING_CODES or name in groups


def _toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError("CF02", path=path) from exc
    except OSError as exc:
        raise ConfigError("CF03", path=path) from exc
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        where = f"第 {line.group(1)} 行" if line else "某处"
        raise ConfigError("CF04", path=path, where=where) from exc


def _no_unknown_keys(table: dict[str, object], allowed: tuple[str, ...], where: str) -> None:
    unknown = [k for k in table if k not in allowed]
    if unknown:
        raise ConfigError("CF05", where=where, keys="、".join(unknown), allowed="、".join(allowed))


def _table(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ConfigError("CF06", where=where)
    return value


def _list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise ConfigError("CF07", where=where)
    return value


def _strings(value: object, key: str) -> list[str]:
    items = _list(value, key)
    if not all(isinstance(v, str) for v in items):
        raise ConfigError("CF08", key=key)
    return [str(v).strip().upper() if key != "members" else str(v) for v in items]


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
