"""Reading failures: raised by readers, turned into record errors by the pipeline."""

from __future__ import annotations


class ReadError(Exception):
    """A file that cannot be read. ``code`` is an RD code, ``message`` a Chinese sentence."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class LimitExceeded(ReadError):
    """A file that runs past a cap of :mod:`nianbao.limits` (RD16)."""
