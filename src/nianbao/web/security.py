"""Accounts on the web: password hashes, roles, region scope, CSRF tokens and a login rate limit.

On a loopback address the app opens without a login (the person at the machine is its
administrator); bound to any other address every page needs a signed-in user.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = {"admin": "管理员", "reviewer": "审核员", "viewer": "查看者"}
ROLE_BY_NAME = {**{v: k for k, v in ROLES.items()}, **{k: k for k in ROLES}}
REVIEW_ROLES = frozenset({"admin", "reviewer"})
LOCAL_USER_NAME = "本机用户"

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class User:
    name: str
    role: str  # admin / reviewer / viewer
    region: str = ""  # "" sees every region; otherwise only agencies whose region starts with it

    @property
    def role_zh(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def can_review(self) -> bool:
        return self.role in REVIEW_ROLES

    def sees(self, region: str | None) -> bool:
        return not self.region or (bool(region) and str(region).startswith(self.region))


LOCAL_USER = User(LOCAL_USER_NAME, "admin", "")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


class LoginLimiter:
    """At most ``attempts`` failed logins per client address and per user name in ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 300.0) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def wait_seconds(self, *keys: str) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.attempts:
                    waits.append(int(self.window - (now - times[0])) + 1)
            return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
