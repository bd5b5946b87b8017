"""The FastAPI application: ``create_app(settings)`` wires storage, the job worker, the API and the pages."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import tagger
from tagger.errors import InputError, TaggerError
from tagger.pipeline import PipelineConfig
from tagger.web import jobs, service
from tagger.web.config import WebSettings, prepare_data_dir, secret_key
from tagger.web.db import make_engine, migrate, session_factory
from tagger.web.deps import LoginRequired
from tagger.web.process import Processor
from tagger.web.storage import UploadTooLarge
from tagger.web.throttle import LoginThrottle
from tagger.web.worker import Worker

HERE = Path(__file__).resolve().parent
SESSION_HOURS = 12
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                  b"img-src 'self' data:; media-src 'self'; object-src 'none'; frame-ancestors 'none'"),
]

_processors: dict[PipelineConfig, Processor] = {}
_processors_lock = threading.Lock()


def shared_processor(config: PipelineConfig) -> Processor:
    """One processor (so one loaded classifier) per pipeline configuration and process."""
    with _processors_lock:
        if config not in _processors:
            _processors[config] = Processor(config)
        return _processors[config]


class _BodyLimit:
    """Rejects a request body over the limit while it streams in (413), before it is spooled anywhere."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        message = (f"the request is larger than the {self.limit // 2**20} MiB upload limit (--max-upload-mb); "
                   "split the recording or compress it (e.g. mp3, opus)")
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await JSONResponse({"detail": message}, status_code=413)(scope, receive, send)
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, message)
            return msg

        await self.app(scope, limited, send)


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                msg["headers"] = list(msg.get("headers", [])) + SECURITY_HEADERS
            await send(msg)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def _error(request: Request, status: int, detail: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": detail}, status_code=status)
    from tagger.web.pages import render

    return render(request, "error.html", status=status, status_code=status, detail=detail)


def create_app(settings: WebSettings, *, start_worker: bool = True) -> FastAPI:
    """The web app on ``settings``; migrates the database first. ``start_worker=False``: only serve
    (jobs stay queued until a server with a worker runs)."""
    prepare_data_dir(settings)
    engine = make_engine(settings.database_url)
    migrate(engine)
    factory = session_factory(engine)
    processor = shared_processor(settings.pipeline)
    worker = Worker(settings, factory, processor)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with factory() as db:
            jobs.requeue_expired(db, settings.max_attempts)
        if start_worker:
            worker.start()
        try:
            yield
        finally:
            worker.stop()
            engine.dispose()

    app = FastAPI(title="tagger", version=tagger.__version__, lifespan=lifespan,
                  description="Psychotherapy session tagging and evidence-linked progress notes. Authenticate with "
                              "`Authorization: Bearer <token>` (create a token with `tagger users token USER`).")
    app.state.settings, app.state.db_factory, app.state.worker = settings, factory, worker
    app.state.login_throttle = LoginThrottle()
    app.add_middleware(SessionMiddleware, secret_key=secret_key(settings.data_dir), session_cookie="tagger_session",
                       max_age=SESSION_HOURS * 3600, same_site="lax", https_only=settings.secure_cookies)
    app.add_middleware(_BodyLimit, limit=settings.max_upload_bytes + 1024 * 1024)  # + room for the form fields
    app.add_middleware(_SecurityHeaders)

    from tagger.web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(service.NotFound)
    async def _not_found(request: Request, exc: service.NotFound) -> Response:
        return _error(request, 404, "no such session")

    @app.exception_handler(service.Forbidden)
    async def _forbidden(request: Request, exc: service.Forbidden) -> Response:
        return _error(request, 403, str(exc))

    @app.exception_handler(service.Conflict)
    async def _conflict(request: Request, exc: service.Conflict) -> Response:
        return _error(request, 409, str(exc))

    @app.exception_handler(TaggerError)
    async def _input(request: Request, exc: TaggerError) -> Response:
        status = 413 if isinstance(exc, UploadTooLarge) else 422 if isinstance(exc, InputError) else 500
        return _error(request, status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or exc.status_code == 401:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return _error(request, exc.status_code, str(exc.detail))

    return app
