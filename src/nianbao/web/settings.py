"""How one web server runs: where it listens, whether it needs a login, its limits."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

from nianbao.web.jobs import ParseLimits
from nianbao.web.security import is_loopback
from nianbao.web.uploads import UploadLimits


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    db: str | None = None
    # Signs session cookies. A new one at each start logs everybody out, which is safe; set
    # NIANBAO_SECRET to keep sessions across restarts.
    secret: str = field(default_factory=lambda: os.environ.get("NIANBAO_SECRET") or secrets.token_urlsafe(32))
    uploads: UploadLimits = field(default_factory=UploadLimits)
    parsing: ParseLimits = field(default_factory=ParseLimits)
    workers: int = max(1, min(4, (os.cpu_count() or 2)))
    session_hours: int = 8
    # Host headers the app answers (against DNS rebinding on loopback); empty = any.
    allowed_hosts: tuple[str, ...] = ()
    # Off loopback, session cookies go over HTTPS only unless this is set (``--allow-http``).
    http_cookies: bool = False

    @property
    def login_required(self) -> bool:
        return not is_loopback(self.host)

    @property
    def secure_cookies(self) -> bool:
        """Session cookies are sent over HTTPS only when the server is reachable from other machines."""
        return self.login_required and not self.http_cookies

    def hosts(self) -> list[str]:
        if self.allowed_hosts:
            return list(self.allowed_hosts)
        if self.login_required:
            return ["*"]
        return ["127.0.0.1", "localhost", "::1", "[::1]"]
