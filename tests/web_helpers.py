"""Helpers for the web app's tests: an app over a backend seeded with example reports, a client
that carries the CSRF token, and reports built to show one thing."""

from __future__ import annotations

import functools
import io
import shutil
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

from nianbao import service
from nianbao.web.app import create_app
from nianbao.web.backend import StoreBackend
from nianbao.web.settings import WebSettings

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)
from fastapi.testclient import TestClient  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "reports"
ARITHMETIC = EXAMPLES / "00001_龙泉镇人民政府2020.md"  # AR01 on table3/new/natural (manifest)
SHIMEN_2021 = EXAMPLES / "00003_石门县自然资源和规划局2021.md"
SHIMEN_2022 = EXAMPLES / "00004_石门县自然资源和规划局2022.txt"
# The agency list (名录): region codes and levels.
AGENCIES = [
    {"名称": "龙泉镇人民政府", "级别": "乡镇", "行政区划代码": "360101"},
    {"名称": "石门县自然资源和规划局", "级别": "部门", "行政区划代码": "360202"},
]
SHIMEN_REGION = "3602"
PASSWORD = "correct horse battery staple"
USERS = (
    ("admin", "管理员", None),
    ("reviewer", "审核员", None),
    ("viewer", "查看者", None),
    ("shimen", "审核员", SHIMEN_REGION),
)


@functools.cache
def _template() -> Path:
    """A database with the agency list and the test users, made once: argon2 is slow on purpose."""
    folder = Path(tempfile.mkdtemp(prefix="nianbao-web-test-"))
    db = folder / "template.db"
    with service.open_store(str(db)) as store:
        store.import_agencies(AGENCIES)
        for name, role, region in USERS:
            store.add_user(name, PASSWORD, role, region)
    return db


def backend(*files: Path, folder: Path | None = None) -> StoreBackend:
    """A fresh SQLite store (copied from the template) with ``files`` imported."""
    folder = folder or Path(tempfile.mkdtemp(prefix="nianbao-web-test-"))
    db = folder / "nianbao.db"
    shutil.copyfile(_template(), db)
    b = StoreBackend.open(str(db))
    for f in files:
        seed(b, f.read_bytes(), f.name)
    return b


def seed(b: StoreBackend, data: bytes, name: str) -> str:
    saved = b.save(data, name, service.parse_bytes(data, name).to_dict(), None, None)
    assert saved.key, saved.message
    return saved.key


class Client(TestClient):
    """A test client that sends the session's CSRF token with every change."""

    def token(self) -> str:
        got = self.get("/session.json")
        assert got.status_code == 200, got.text
        token: str = got.json()["csrf"]
        return token

    def login(self, name: str, password: str = PASSWORD) -> Any:
        token = self.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
        return self.post("/login", data={"username": name, "password": password, "csrf": token, "next": "/"})

    def change(self, method: str, url: str, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}) or {})
        headers.setdefault("X-CSRF-Token", self.token())
        return self.request(method, url, headers=headers, **kw)


def client(b: StoreBackend, host: str = "127.0.0.1", **settings: Any) -> Client:
    app = create_app(WebSettings(host=host, workers=1, **settings), b)
    scheme = "http" if host == "127.0.0.1" else "https"
    return Client(app, base_url=f"{scheme}://127.0.0.1", follow_redirects=False)


def wait_job(c: Client, job_id: str, seconds: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        job: dict[str, Any] = c.get(f"/upload/jobs/{job_id}.json").json()
        if job["done"] or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def zip_bomb(megabytes: int = 200) -> bytes:
    """A small zip that claims and holds a large file of zeros (ratio about 1000:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("报告.txt", b"0" * (megabytes * 1024 * 1024))
    return out.getvalue()


def with_script(path: Path) -> bytes:
    """A report whose first section's text holds a script tag."""
    text = path.read_text(encoding="utf-8")
    marker = "一、总体情况"
    at = text.index(marker) + len(marker)
    return (text[:at] + "\n<script>alert('年报')</script><img src=x onerror=alert(1)>" + text[at:]).encode()
