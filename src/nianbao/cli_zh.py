"""The command line in Chinese: help panels, the usage line, type labels and usage errors.

typer prints its help and its usage errors in English, from module constants and from the click
copy it carries (whose messages are English f-strings, not gettext). A user of nianbao reads
Chinese, so this shell module gives typer Chinese constants, a command class whose usage line,
help option and type column are Chinese, and an entry point that turns each usage error into a
Chinese message (exit 2). The typer version is pinned in pyproject.toml; ``tests/test_cli_zh.py``
fails if an upgrade lets English through again.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

import typer
from typer._click import exceptions as click_errors  # typer's own click copy (pinned version)
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandFunctionType

USAGE = "用法："
OPTIONS_METAVAR = "[选项]"
COMMAND_METAVAR = "命令 [参数]..."
HELP_TEXT = "显示本帮助并退出。"

# Python types as a user should read them in the help's type column; a flag shows none.
TYPE_LABELS = {
    "bool": "",
    "int": "整数",
    "int range": "整数",
    "float": "数值",
    "float range": "数值",
    "str": "文本",
    "path": "路径",
    "Path": "路径",
    "list[Path]": "路径…",
    "list[str]": "文本…",
    "list[int]": "整数…",
}


# Arguments shown by their Chinese name where a command gives no metavar of its own.
ARGUMENT_LABELS = {
    "paths": "文件或文件夹",
    "path": "文件",
    "source": "文件",
    "sources": "文件",
    "a": "文件甲",
    "b": "文件乙",
}


def use_chinese_panels() -> None:
    """typer's help and error panels in Chinese (module constants read at render time). Called
    when help is drawn, not at start-up: typer's rich module (rich, markdown-it) is imported by
    typer only to draw help and errors, and a command that runs needs neither."""
    global _parameter_help
    import typer.rich_utils as rich_utils

    rich_utils.ARGUMENTS_PANEL_TITLE = "参数"
    rich_utils.OPTIONS_PANEL_TITLE = "选项"
    rich_utils.COMMANDS_PANEL_TITLE = "命令"
    rich_utils.ERRORS_PANEL_TITLE = "错误"
    rich_utils.ABORTED_TEXT = "已中止。"
    rich_utils.DEFAULT_STRING = "[默认：{}]"
    rich_utils.ENVVAR_STRING = "[环境变量：{}]"
    rich_utils.REQUIRED_LONG_STRING = "[必填]"
    rich_utils.DEPRECATED_STRING = "（已弃用）"
    rich_utils.RICH_HELP = "用 [blue]'{command_path} {help_option}'[/] 查看帮助。"
    if rich_utils._get_parameter_help is not _one_paragraph:
        _parameter_help = rich_utils._get_parameter_help
        rich_utils._get_parameter_help = _one_paragraph
        rich_utils._make_command_help = _folded(rich_utils._make_command_help)


_parameter_help: Callable[..., Any] | None = None  # typer's own, kept by use_chinese_panels


def _folded(make: Callable[..., Any]) -> Callable[..., Any]:
    """A command's summary in the command list folded onto more lines instead of cut off."""

    def folded(**kwargs: Any) -> Any:
        from rich.text import Text

        text = make(**kwargs)
        if isinstance(text, Text):
            text.overflow = "fold"
        return text

    return folded


def _one_paragraph(**kwargs: Any) -> Any:
    """An option's help, default and 必填 as one wrapped paragraph. typer sets them side by side as
    columns, and a Chinese help text too wide for its column was cut off with an ellipsis."""
    from rich.text import Text

    assert _parameter_help is not None  # set before it was replaced by this function
    columns = _parameter_help(**kwargs)
    parts = list(getattr(columns, "renderables", ()))
    if not parts or not all(isinstance(p, Text) for p in parts):
        return columns
    joined = Text(" ").join(parts)
    joined.overflow = "fold"  # Chinese has no spaces to wrap at: fold the line instead of cutting it
    return joined


def _type_label(shown: str | None) -> str | None:
    """``<list[Path]>`` as ``<路径…>``; choices (``jsonl|json``) are what the user types: kept."""
    if not shown:
        return shown
    inner = shown[1:-1] if shown.startswith("<") and shown.endswith(">") else shown
    if "|" in inner:
        return shown
    label = TYPE_LABELS.get(inner, TYPE_LABELS.get(inner.removesuffix("..."), "值"))
    return f"<{label}>" if label else None


def _chinese_params(params: list[Any], ctx: Any) -> list[Any]:
    for param in params:
        if getattr(param, "_zh", False):
            continue
        if param.param_type_name == "argument" and param.metavar is None:
            param.metavar = ARGUMENT_LABELS.get(param.name or "", "参数")
        param.display_type_rich = _fixed(_type_label(param.display_type_rich(ctx)))
        if "--help" in getattr(param, "opts", ()):
            param.help = HELP_TEXT
        param._zh = True
    return params


def _fixed(label: str | None) -> Callable[[Any], str | None]:
    return lambda ctx: label


def _usage_line(command: Any, ctx: Any) -> str:
    pieces = [OPTIONS_METAVAR]
    for param in command.get_params(ctx):
        if param.param_type_name != "argument":
            continue
        name = _param_name(param)
        name = name if param.nargs == 1 else f"{name}..."
        pieces.append(name if param.required else f"[{name}]")
    if isinstance(command, TyperGroup):
        pieces.append(COMMAND_METAVAR)
    return f"{USAGE}{ctx.command_path} {' '.join(pieces)}"


class _InChinese:
    """Chinese parameters, usage line and help panels, for a command or a group of commands."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _chinese_params(super().get_params(ctx), ctx)  # type: ignore[misc]

    def get_usage(self, ctx: Any) -> str:
        return _usage_line(self, ctx)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        use_chinese_panels()
        super().format_help(ctx, formatter)  # type: ignore[misc]


class ChineseCommand(_InChinese, TyperCommand):
    """A typer command whose help reads in Chinese."""


class ChineseGroup(_InChinese, TyperGroup):
    """The command group (``nianbao``) with a Chinese usage line and help option."""


class ChineseTyper(typer.Typer):
    """A Typer app whose every command is a :class:`ChineseCommand`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cls=ChineseGroup, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[CommandFunctionType], CommandFunctionType]:
        kwargs.setdefault("cls", ChineseCommand)
        return super().command(*args, **kwargs)


# English messages typer/click put into a usage error, as Chinese; the value the user typed is kept.
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"'(?P<v>[^']*)' is not one of (?P<c>.*?)\.?$", "“{v}”不是可选的值（可选：{c}）"),
        (r"(?i:file|directory|path) '(?P<v>[^']*)' does not exist", "“{v}”不存在"),
        (r"(?i:file|directory|path) '(?P<v>[^']*)' is a directory", "“{v}”是文件夹，应为文件"),
        (r"(?i:file|directory|path) '(?P<v>[^']*)' is a file", "“{v}”是文件，应为文件夹"),
        (r"(?i:file|directory|path) '(?P<v>[^']*)' is not readable", "“{v}”无法读取"),
        (r"(?i:file|directory|path) '(?P<v>[^']*)' is not writable", "“{v}”无法写入"),
        (r"valid integer", "应为整数"),
        (r"valid number|valid float", "应为数值"),
        (r"greater than or equal to (?P<v>\S+)", "应不小于 {v}"),
        (r"less than or equal to (?P<v>\S+)", "应不大于 {v}"),
        (r"not in the range (?P<v>.*?)\.?$", "超出范围 {v}"),
        (r"No such command '(?P<v>[^']*)'", "没有命令“{v}”（nianbao --help 列出全部命令）"),
        (r"Missing command", "缺少命令（nianbao --help 列出全部命令）"),
        (r"unexpected extra arguments? \((?P<v>.*)\)", "多余的参数：{v}"),
        (r"requires (?P<v>\d+) arguments", "需要 {v} 个值（用空格分开）"),
        (r"requires an argument", "需要一个值"),
        (r"does not take a value", "不接受值"),
    )
)


def _translated(message: str) -> str:
    for pattern, text in _MESSAGES:
        found = pattern.search(message)
        if found:
            return text.format(**{k: v.replace("'", "") for k, v in found.groupdict().items()})
    if re.search(r"[\u4e00-\u9fff]", message):
        return message  # our own validation messages are Chinese already
    return "取值无效"


def usage_error_message(error: click_errors.UsageError) -> str:
    """One Chinese line for a usage error, naming the option or argument."""
    if isinstance(error, click_errors.MissingParameter):
        kind = "参数" if (error.param and error.param.param_type_name == "argument") else "选项"
        name = _param_name(error.param) if error.param else ""
        return f"缺少{kind} {name}".rstrip()
    if isinstance(error, click_errors.NoSuchOption):
        near = f"（是否想用 {'、'.join(error.possibilities)}）" if error.possibilities else ""
        return f"没有选项 {error.option_name}{near}"
    if isinstance(error, click_errors.BadOptionUsage):
        return f"选项 {error.option_name}：{_translated(error.message)}"
    if isinstance(error, click_errors.BadParameter):
        name = _param_name(error.param) if error.param else str(error.param_hint or "")
        return f"{name} 的值无效：{_translated(error.message)}"
    return _translated(error.message)


def _param_name(param: Any) -> str:
    if param.param_type_name == "argument":
        return str(param.metavar or getattr(param, "display_name_raw", None) or param.name)
    return "/".join(param.opts)


def run(app: typer.Typer, args: list[str] | None = None) -> int:
    """Run the app; usage errors are printed in Chinese with exit code 2, as click's are."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="nianbao", standalone_mode=False)
    except click_errors.NoArgsIsHelpError as error:
        if error.ctx is not None:
            sys.stdout.write(error.ctx.get_help() + "\n")
        return 0
    except click_errors.UsageError as error:
        # An option's value missing is found before the command's context exists: the command's
        # path is then read from the arguments, so the help named is the command's own.
        path = error.ctx.command_path if error.ctx is not None else _command_path(command, args)
        usage = error.ctx.get_usage() if error.ctx is not None else f"{USAGE}{path} [选项]"
        sys.stderr.write(f"{usage}\n错误：{usage_error_message(error)}\n用 {path} --help 查看帮助。\n")
        return 2
    except click_errors.ClickException as error:
        sys.stderr.write(f"错误：{_translated(error.message)}\n")
        return 1
    except typer.Abort:
        sys.stderr.write("已中止。\n")
        return 1
    return result if isinstance(result, int) else 0


def _command_path(command: Any, args: list[str] | None) -> str:
    """``nianbao`` and the (sub)commands named at the start of ``args`` (sys.argv's when None)."""
    path, group = ["nianbao"], command
    for arg in sys.argv[1:] if args is None else args:
        sub = getattr(group, "commands", {}).get(arg)
        if sub is None:
            break
        path.append(arg)
        group = sub
    return " ".join(path)
