"""nianbao: read, check, compare and write 政府信息公开工作年度报告."""

from nianbao.api import iter_paths, parse
from nianbao.record import Finding, Report

__version__ = "0.1.0"

__all__ = ["Finding", "Report", "__version__", "iter_paths", "parse"]
