"""Refusals the pages raise; the app turns them into a Chinese page or a JSON ``detail``."""

from __future__ import annotations


class WebError(Exception):
    """A refusal shown as a page (or JSON): a status and a Chinese message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class NeedLogin(Exception):
    """The request needs a signed-in user."""
