"""Reading failures: raised by readers, turned into record errors by the pipeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nianbao.record import Finding


class ReadError(Exception):
    """A file that cannot be read. ``code`` is an RD code, ``message`` a Chinese sentence (made by
    :func:`nianbao.errors.read_error` from the code's template)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def finding(self) -> Finding:
        """The error as the record holds it."""
        from nianbao.record import Finding

        return Finding(self.code, "error", self.message, (), {})


class LimitExceeded(ReadError):
    """A file that runs past a cap of :mod:`nianbao.limits` (RD16)."""
