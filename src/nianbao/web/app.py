"""The reviewers' web app: one FastAPI application, pages from Jinja2 templates, every page with a
JSON twin (the same URL with ``.json``), the JSON API described in OpenAPI at ``/docs``.

``create_app(settings, backend)`` builds it; ``nianbao serve`` runs it with uvicorn. The app is a
shell over the service layer (through :class:`nianbao.web.backend.Backend`); it never reads,
checks or stores a report itself.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations (the local
# ``Me`` dependency alias) when they are defined.

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nianbao import __version__
from nianbao.web import analysis, fill, pages
from nianbao.web.backend import Backend, StoreBackend
from nianbao.web.errors import NeedLogin, WebError
from nianbao.web.jobs import Jobs
from nianbao.web.security import LOCAL_USER, LoginLimiter, User, new_token, same_token
from nianbao.web.settings import WebSettings

HERE = Path(__file__).parent
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NAV = (
    ("overview", "/", "总览"),
    ("upload", "/upload", "上传"),
    ("reports", "/reports", "报告"),
    ("compare", "/compare", "比对"),
    ("stats", "/stats", "统计"),
    ("exports", "/exports", "导出"),
    ("fill", "/fill", "填报"),
)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)


class BodyLimit:
    """Refuses a request whose body is larger than ``limit`` bytes (by its Content-Length, and by
    counting when it has none) before anything reads it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        message = f"上传内容超过 {self.limit // (1024 * 1024)} MB 的上限，未接收"
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _plain(send, 413, message)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise WebError(413, message)
            return msg

        await self.app(scope, counted, send)


async def _plain(send: Send, status: int, text: str) -> None:
    body = json.dumps({"detail": text}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(settings: WebSettings | None = None, backend: Backend | None = None) -> FastAPI:
    settings = settings or WebSettings()
    backend = backend if backend is not None else StoreBackend.open(settings.db)
    if settings.login_required and not backend.has_admin():
        raise RuntimeError(
            f"服务绑定在 {settings.host}（非本机地址），需要登录，但还没有管理员账号。"
            "请先运行 nianbao users add 用户名 --role 管理员 创建管理员。"
        )
    jobs = Jobs(settings.workers, settings.parsing)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="nianbao 政府信息公开年报审核",
        version=__version__,
        description="每个页面的 JSON 版本：页面地址加 .json。修改数据的请求须带 X-CSRF-Token 头（令牌见 /session.json）。",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["nav"] = NAV
    templates.env.filters["tojson_attr"] = lambda v: json.dumps(v, ensure_ascii=False)
    limiter = LoginLimiter()
    app.state.settings = settings
    app.state.backend = backend
    app.state.jobs = jobs
    app.state.limiter = limiter
    app.state.templates = templates

    # --- middleware (the last added runs first) ---------------------------------------------

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        try:
            response = await call_next(request)
        except WebError as exc:  # raised by BodyLimit while the body was read
            response = JSONResponse({"detail": exc.message}, status_code=exc.status)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.url.path.startswith("/static/") and "/vendor/" in request.url.path:
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret,
        session_cookie="nianbao_session",
        max_age=settings.session_hours * 3600,
        same_site="strict",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.hosts())
    app.add_middleware(BodyLimit, limit=settings.uploads.max_total_bytes + 1024 * 1024)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # --- errors -------------------------------------------------------------------------------

    def wants_json(request: Request) -> bool:
        return request.url.path.endswith(".json") or "application/json" in request.headers.get("accept", "")

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, exc: NeedLogin) -> Response:
        if wants_json(request) or request.method not in SAFE_METHODS:
            return JSONResponse({"detail": "需要登录"}, status_code=401)
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(WebError)
    async def web_error(request: Request, exc: WebError) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": exc.message}, status_code=exc.status)
        return render(request, "error.html", {"title": "出错了", "message": exc.message}, status=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "没有这个页面", 405: "不支持的请求方法"}.get(exc.status_code, str(exc.detail))
        if wants_json(request):
            return JSONResponse({"detail": message}, status_code=exc.status_code)
        return render(request, "error.html", {"title": "出错了", "message": message}, status=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = "、".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors())
        return JSONResponse({"detail": f"请求参数有误：{fields}"}, status_code=422)

    # --- accounts -----------------------------------------------------------------------------

    def csrf_token(request: Request) -> str:
        token = request.session.get("csrf")
        if not token:
            token = new_token()
            request.session["csrf"] = token
        return str(token)

    def current_user(request: Request) -> User:
        if not settings.login_required:
            return LOCAL_USER
        name = request.session.get("user")
        found = backend.user(str(name)) if name else None
        if found is None:
            raise NeedLogin()
        return found

    async def csrf_guard(request: Request) -> None:
        if request.method in SAFE_METHODS:
            return
        given = request.headers.get("x-csrf-token")
        if not given and request.headers.get("content-type", "").startswith(
            ("multipart/form-data", "application/x-www-form-urlencoded")
        ):
            form = await request.form(max_files=settings.uploads.max_files + 10, max_fields=5000)
            value = form.get("csrf")
            given = value if isinstance(value, str) else None
        if not same_token(request.session.get("csrf"), given):
            raise WebError(403, "表单已过期或来源不明（缺少有效的 CSRF 令牌），请刷新页面后重试")

    app.router.dependencies.append(Depends(csrf_guard))
    Me = Annotated[User, Depends(current_user)]

    def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
        user = None
        with contextlib.suppress(NeedLogin):
            user = current_user(request)
        # The page's own data never overrides who is signed in or the form token.
        full = {
            **context,
            "request": request,
            "user": user,
            "csrf": csrf_token(request),
            "login_required": settings.login_required,
            "version": __version__,
        }
        return templates.TemplateResponse(request, template, full, status_code=status)

    def page(request: Request, template: str, data: dict[str, Any], extra: dict[str, Any] | None = None) -> Response:
        """A page, or its JSON twin when the URL ends in ``.json``."""
        if request.url.path.endswith(".json"):
            return JSONResponse(data)
        return render(request, template, {**data, **(extra or {})})

    app.state.render = render
    app.state.page = page
    app.state.current_user = current_user
    app.state.csrf_token = csrf_token

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, next: str = "/") -> Response:
        return render(request, "login.html", {"title": "登录", "next": _local_path(next), "message": ""})

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form()
        name = str(form.get("username") or "").strip()
        password = str(form.get("password") or "")
        target = _local_path(str(form.get("next") or "/"))
        client = request.client.host if request.client else "?"
        keys = (f"ip:{client}", f"user:{name}")
        wait = limiter.wait_seconds(*keys)
        if wait:
            message = f"登录失败次数过多，请 {max(1, wait // 60)} 分钟后再试"
            return render(request, "login.html", {"title": "登录", "next": target, "message": message}, status=429)
        found = await run_in_threadpool(backend.verify, name, password) if name and password else None
        if found is None:
            limiter.failed(*keys)
            message = "用户名或密码不正确"
            return render(request, "login.html", {"title": "登录", "next": target, "message": message}, status=401)
        limiter.succeeded(*keys)
        request.session.clear()
        request.session["user"] = found.name
        request.session["csrf"] = new_token()
        backend.audit(found.name, "login", "", {"client": client})
        return RedirectResponse(target, status_code=303)

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login" if settings.login_required else "/", status_code=303)

    @app.get("/session.json", summary="当前用户与 CSRF 令牌")
    def session_json(request: Request, user: Me) -> dict[str, Any]:
        return {
            "user": user.name,
            "role": user.role,
            "role_zh": user.role_zh,
            "region": user.region,
            "csrf": csrf_token(request),
        }

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request, user: Me) -> Response:
        return templates.TemplateResponse(request, "docs.html", {"request": request})

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(user: Me) -> dict[str, Any]:
        return app.openapi()

    pages.register(app, current_user)
    analysis.register(app, current_user)
    fill.register(app, current_user)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    return app


def _local_path(target: str) -> str:
    """A redirect target on this site only (no ``//host`` or scheme)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
