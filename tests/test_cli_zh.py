"""The command line speaks Chinese: every command's help and every usage error, no English, no traceback."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import typer

from nianbao.cli import app

# Words a Chinese user may meet in help as they are: the program, file types, products, standards.
_ALLOWED = """nianbao jsonl json table text sarif error warning notice toml xlsx csv parquet docx doc pdf
    html htm md txt wps Excel Word Markdown LibreOffice JSON SARIF manifest OCR URL SQLite PostgreSQL
    Dask DuckDB Parquet sha256 CSV PDF HTML DOCX DOC WPS TXT RD AR VA ST NA PL XY PU GB T MB CPU x"""
ALLOWED_WORDS = frozenset(_ALLOWED.split())
WORD = re.compile(r"[A-Za-z][A-Za-z_]+")


def _choices() -> set[str]:
    """Every value an option offers (``--by region``): typed as they are, and named in the help."""
    values: set[str] = set()

    def walk(command: object) -> None:
        for param in getattr(command, "params", ()):
            values.update(str(c) for c in getattr(getattr(param, "type", None), "choices", ()) or ())
            enum = getattr(getattr(param, "type_descriptor", None), "annotation", None)
            if isinstance(enum, type) and hasattr(enum, "__members__"):
                values.update(str(m.value) for m in enum.__members__.values())
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return values


def _english_words(text: str) -> list[str]:
    text = re.sub(r"\w+(?:\+\w+)?://\S*", " ", text)  # database addresses
    text = re.sub(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", " ", text)  # environment variables
    text = re.sub(r"(?<![\w-])--?[\w-]+", " ", text)  # option names are typed as they are
    text = re.sub(r"<[^>]*\|[^>]*>", " ", text)  # choices, typed as they are
    text = re.sub(r"[\w./-]+\.(?:toml|xlsx|csv|json|jsonl|db|sarif|md)\b", " ", text)  # file names
    text = re.sub(r"\b[A-Z]{2}\d{2}\b", " ", text)  # rule codes
    typed = ALLOWED_WORDS | {w for c in _commands() for w in c.split()} | _choices()  # typed as they are
    return [w for w in WORD.findall(text) if w not in typed and w.lower() not in typed]


def _commands() -> list[str]:
    """Every command line that has help: commands, and sub-commands of groups (``agencies import``)."""
    names: list[str] = []

    def walk(command: object, prefix: str) -> None:
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            names.append(f"{prefix}{name}")
            walk(sub, f"{prefix}{name} ")

    walk(typer.main.get_command(app), "")
    return names


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nianbao.cli", *args], capture_output=True, text=True, timeout=120, env=None
    )


@pytest.mark.parametrize("command", ["", *_commands()])
def test_help_is_chinese(command: str) -> None:
    run = _run(*command.split(), "--help")
    assert run.returncode == 0, run.stderr
    assert "用法：" in run.stdout and "显示本帮助并退出" in run.stdout
    assert _english_words(run.stdout) == [], run.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["parse"], "缺少参数 文件或文件夹"),
        (["check"], "请给出要检查的文件或文件夹"),
        (["check", "--fail-on", "bad", "x"], "“bad”不是可选的值"),
        (["nosuch"], "没有命令“nosuch”"),
        (["parse", "--bogus", "x"], "没有选项 --bogus"),
        (["parse", "/no/such/file.pdf"], "不存在"),
        (["template", "--year", "abc", "--agency", "甲", "--out", "a.xlsx"], "应为整数"),
        (["template", "--year", "1990", "--agency", "甲", "--out", "a.xlsx"], "应不小于 2019"),
        (["parse", "--format"], "需要一个值"),
        (["parse", "--format"], "用 nianbao parse --help 查看帮助"),  # the command's own help, found from the arguments
        (["compare", "--years", "2023"], "需要 2 个值"),
        (["agencies", "import", "--db"], "用法：nianbao agencies import"),
        (["check", "a.txt", "--db", "x.db"], "只能给出一种"),
        (["compare", "--db", "x.db", "--years", "2022", "2023"], "--years 需要与 --agency 一起使用"),
    ],
)
def test_usage_errors_are_chinese(args: list[str], expected: str) -> None:
    run = _run(*args)
    assert run.returncode == 2
    assert expected in run.stderr
    assert "Traceback" not in run.stderr and "Error" not in run.stderr
    shown = run.stderr
    for typed in args:  # what the user typed is quoted back as typed
        shown = shown.replace(typed, " ")
    assert _english_words(shown) == [], run.stderr
