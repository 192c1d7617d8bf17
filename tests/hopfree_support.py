"""What the hopfree tests share: the request matrix both middleware stacks play,
with what a client and the server keep of each answer, and hops counted through
Django's ASGI handler."""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.asgi import get_asgi_application
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.test import (
    AsyncClient,
    Client,
    override_settings,
)
from django.test.client import MULTIPART_CONTENT

from tests.asgi import http_scope
from tests.audit.planted import DJANGO_DEFAULT_MIDDLEWARE
from tests.queries import hops_counted

DJANGO_STACK = DJANGO_DEFAULT_MIDDLEWARE
HOPFREE_STACK = [f"topics.hopfree.{path.rsplit('.', 1)[1]}" for path in DJANGO_STACK]
URLS = "tests.hopfree_urls"
TOKEN = re.compile(r"\b[a-zA-Z0-9]{64}\b")
# A well-formed token (masked form) that matches no secret.
WRONG_TOKEN = "A" * 64


@dataclass(frozen=True)
class Step:
    method: str
    path: str
    token: str = ""  # "good", "wrong" or "bad": the CSRF token sent
    token_in: str = "post"  # or "header"
    headers: dict[str, str] = field(default_factory=dict)
    secure: bool = False
    upload: bool = False  # a multipart body with a file


def get(path: str, **options: Any) -> Step:
    return Step("GET", path, **options)


def post(path: str, token: str = "", **options: Any) -> Step:
    return Step("POST", path, token=token, **options)


TOKEN_FIRST = get("/eq/token/")
LOGIN = get("/eq/login/")
SCENARIOS: dict[str, list[Step]] = {
    "anonymous GET": [get("/eq/plain/?q=1"), Step("HEAD", "/eq/plain/")],
    "no trailing slash": [get("/eq/plain?q=1"), TOKEN_FIRST, post("/eq/plain", "good")],
    "not found": [get("/eq/missing/"), get("/eq/raise404/"), get("/eq/missing")],
    "streaming": [get("/eq/stream/")],
    "frames and own headers": [get("/eq/framed/"), get("/eq/own-headers/")],
    "https": [
        get("/eq/plain/", secure=True),
        get("/eq/exempt-from-redirect/"),
        get("/eq/own-headers/", secure=True),
    ],
    "user agent": [get("/eq/plain/", headers={"user-agent": "evilbot/1.0"})],
    "session": [
        get("/eq/session-set/"),
        get("/eq/session-read/"),
        get("/eq/session-flush/"),
        get("/eq/session-read/"),
    ],
    "session, 5xx": [get("/eq/session-set-then-fail/"), get("/eq/session-read/")],
    "messages": [get("/eq/messages-add/"), get("/eq/page/"), get("/eq/page/")],
    "messages beyond a cookie": [
        get("/eq/messages-add-many/"),
        get("/eq/page/"),
        get("/eq/page/"),
    ],
    "logged in": [
        LOGIN,
        get("/eq/whoami/"),
        get("/eq/page/"),
        get("/eq/session-set/"),
        get("/eq/messages-add/"),
        get("/eq/page/"),
        get("/eq/logout/"),
        get("/eq/whoami/"),
    ],
    "logged in, messages first": [LOGIN, get("/eq/messages-add/"), get("/eq/page/")],
    "CSRF: no cookie": [post("/eq/form/", "wrong")],
    "CSRF: tokens": [
        TOKEN_FIRST,
        post("/eq/form/"),
        post("/eq/form/", "bad"),
        post("/eq/form/", "wrong"),
        post("/eq/form/", "good"),
        post("/eq/form/", "good", token_in="header"),
        post("/eq/form/", "wrong", token_in="header"),
        Step("PUT", "/eq/form/", "good", token_in="header"),
        Step("DELETE", "/eq/form/", "wrong", token_in="header"),
        post("/eq/exempt/"),
    ],
    "CSRF: origin": [
        TOKEN_FIRST,
        post("/eq/form/", "good", headers={"origin": "http://testserver"}),
        post("/eq/form/", "good", headers={"origin": "http://evil.example"}),
        post("/eq/form/", "good", headers={"origin": "http://partner.example"}),
        post("/eq/form/", "good", headers={"origin": "null"}),
    ],
    "CSRF: https referer": [
        get("/eq/token/", secure=True),
        post("/eq/form/", "good", secure=True),
        post(
            "/eq/form/",
            "good",
            secure=True,
            headers={"referer": "https://evil.example/"},
        ),
        post(
            "/eq/form/", "good", secure=True, headers={"referer": "http://testserver/"}
        ),
        post(
            "/eq/form/", "good", secure=True, headers={"referer": "https://testserver/"}
        ),
        post(
            "/eq/form/",
            "good",
            secure=True,
            headers={"referer": "https://a.example.com/"},
        ),
    ],
    "CSRF: multipart": [
        TOKEN_FIRST,
        post("/eq/form/", "good", upload=True),
        post("/eq/form/", "wrong", upload=True),
    ],
    "CSRF: logged in": [
        LOGIN,
        TOKEN_FIRST,
        post("/eq/form/", "good"),
        post("/eq/form/", "wrong"),
        post("/eq/form/", "good", upload=True),
    ],
}
VARIANTS: dict[str, dict[str, Any]] = {
    "project settings": {},
    "APPEND_SLASH": {"APPEND_SLASH": True},
    "APPEND_SLASH, DEBUG": {"APPEND_SLASH": True, "DEBUG": True},
    "PREPEND_WWW": {"PREPEND_WWW": True, "APPEND_SLASH": True},
    "HTTPS only": {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_REDIRECT_EXEMPT": [r"^eq/exempt-from-redirect/$"],
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
    },
    "CSRF_USE_SESSIONS": {"CSRF_USE_SESSIONS": True},
    "session messages": {
        "MESSAGE_STORAGE": "django.contrib.messages.storage.session.SessionStorage"
    },
    "cookie messages": {
        "MESSAGE_STORAGE": "django.contrib.messages.storage.cookie.CookieStorage"
    },
    "save every request": {
        "SESSION_SAVE_EVERY_REQUEST": True,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": True,
    },
    "cache sessions": {"SESSION_ENGINE": "django.contrib.sessions.backends.cache"},
    "cached_db sessions": {
        "SESSION_ENGINE": "django.contrib.sessions.backends.cached_db",
        "CSRF_USE_SESSIONS": True,
    },
    "signed cookie sessions": {
        "SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies"
    },
    "cookie flags and headers": {
        "CSRF_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_AGE": 600,
        "X_FRAME_OPTIONS": "SAMEORIGIN",
        "SECURE_REFERRER_POLICY": "no-referrer, strict-origin",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": None,
        "SECURE_CONTENT_TYPE_NOSNIFF": False,
    },
    "trusted origins": {
        "CSRF_TRUSTED_ORIGINS": ["https://*.example.com", "http://partner.example"]
    },
    "a CSRF failure view that queries": {
        "CSRF_FAILURE_VIEW": "tests.hopfree_urls.querying_csrf_failure"
    },
    "Django's CSRF failure page": {
        "CSRF_FAILURE_VIEW": "django.views.csrf.csrf_failure"
    },
    "disallowed user agents": {"DISALLOWED_USER_AGENTS": [re.compile(r"evilbot")]},
}
LOGGERS = ("django.request", "django.security.csrf")


class Records(logging.Handler):
    """The warnings Django logs, as (logger, level, message)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = TOKEN.sub("<token>", record.getMessage())
        self.seen.append((record.name, record.levelname, message))


@contextmanager
def logs_recorded() -> Iterator[Records]:
    records = Records()
    for name in LOGGERS:
        logging.getLogger(name).addHandler(records)
    try:
        yield records
    finally:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(records)


async def stored_session(key: str) -> dict[str, Any]:
    """The session data the server keeps for this cookie, secrets masked."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    data = dict(await store.aload())
    if "_csrftoken" in data:
        data["_csrftoken"] = "<secret>"
    return data


async def send(client: Client | AsyncClient, step: Step, token: str) -> Any:
    """One request; the response, or the exception the handler let through."""
    data: Any = None
    content_type = "application/x-www-form-urlencoded"
    headers = dict(step.headers)
    sent_token = {"good": token, "wrong": WRONG_TOKEN, "bad": "not a token!"}.get(
        step.token, ""
    )
    if step.method != "GET" and step.method != "HEAD":
        fields = {"title": "Hello"}
        if sent_token and step.token_in == "header":
            headers["x-csrftoken"] = sent_token
        elif sent_token:
            fields["csrfmiddlewaretoken"] = sent_token
        if step.upload:
            data = {**fields, "file": SimpleUploadedFile("a.txt", b"a file\n" * 100)}
            content_type = MULTIPART_CONTENT
        else:
            data = "&".join(f"{name}={value}" for name, value in fields.items())
    method = getattr(client, step.method.lower())
    kwargs = {"secure": step.secure, "headers": headers}
    if data is not None:
        kwargs |= {"data": data, "content_type": content_type}
    try:
        if isinstance(client, AsyncClient):
            return await method(step.path, **kwargs)
        return await sync_to_async(method)(step.path, **kwargs)
    except Exception as exc:  # noqa: BLE001 — the outcome to compare
        return exc


async def body_of(response: Any) -> str:
    if not response.streaming:
        content = response.content
    elif response.is_async:
        content = b"".join([part async for part in response.streaming_content])
    else:
        content = b"".join(response.streaming_content)
    return TOKEN.sub("<token>", content.decode(errors="replace"))


async def play(steps: list[Step], middleware: list[str], *, wsgi: bool) -> list:
    """What each step gave: the response as a client and the server keep it."""
    # enforce_csrf_checks: the test clients skip CSRF checks otherwise.
    client = (Client if wsgi else AsyncClient)(enforce_csrf_checks=True)
    token = ""
    outcomes = []
    with override_settings(MIDDLEWARE=middleware, ROOT_URLCONF=URLS):
        for step in steps:
            sent_csrf = client.cookies.get(settings.CSRF_COOKIE_NAME)
            with logs_recorded() as records:
                response = await send(client, step, token)
            if isinstance(response, Exception):
                outcomes.append(("raised", type(response).__name__, str(response)))
                continue
            body = await body_of(response)
            if step.path == "/eq/token/" and response.status_code == 200:
                token = response.json()["token"]
            cookies = {}
            for name, morsel in response.cookies.items():
                value = morsel.value
                if name == settings.SESSION_COOKIE_NAME and value:
                    value = await stored_session(value)
                elif name == "messages" and value:
                    # Signed with a timestamp: compare the messages it holds.
                    value = [
                        (m.level, m.message, m.extra_tags)
                        for m in CookieStorage(HttpRequest())._decode(value)
                    ]
                elif name == settings.CSRF_COOKIE_NAME and value:
                    same = sent_csrf is not None and sent_csrf.value == value
                    value = "<the request's>" if same else "<new>"
                flags = {
                    flag: morsel[flag]
                    for flag in ("max-age", "path", "domain", "secure", "httponly")
                } | {"samesite": morsel["samesite"], "expires": bool(morsel["expires"])}
                cookies[name] = (value, flags)
            session = client.cookies.get(settings.SESSION_COOKIE_NAME)
            outcomes.append(
                {
                    "status": response.status_code,
                    "headers": dict(response.headers),
                    "cookies": cookies,
                    "body": body,
                    "session": await stored_session(session.value) if session else None,
                    "logs": records.seen,
                }
            )
    return outcomes


async def differences(
    variants: dict[str, dict[str, Any]] = VARIANTS,
    *,
    wsgi: bool = False,
    first_only: bool = False,
) -> list[str]:
    """Where the hop-free stack answers otherwise than Django's, step by step."""
    found = []
    for variant, overrides in variants.items():
        with override_settings(**overrides):
            for scenario, steps in SCENARIOS.items():
                django = await play(steps, DJANGO_STACK, wsgi=wsgi)
                ours = await play(steps, HOPFREE_STACK, wsgi=wsgi)
                for step, theirs, mine in zip(steps, django, ours, strict=True):
                    if theirs != mine:
                        found.append(
                            f"{variant} / {scenario} / {step.method} {step.path}:\n"
                            f"  Django: {theirs}\n  hopfree: {mine}"
                        )
                        if first_only:
                            return found
    return found


async def hops_of(
    path: str, *, cookie: str = "", method: str = "GET", body: bytes = b""
) -> list:
    """The response's status, then the thread hops one request takes through
    Django's ASGI handler (built now, from the settings in force), from the
    request_started signal to the response's close(). project.asgi wraps this
    handler in pure ASGI middleware, which takes no hop."""
    path, _, query = path.partition("?")
    scope = http_scope(path, query.encode())
    scope["method"] = method
    if cookie:
        scope["headers"] = [*scope["headers"], (b"cookie", cookie.encode())]
    if body:
        scope["headers"] += [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ]
    with hops_counted() as hops:
        communicator = ApplicationCommunicator(get_asgi_application(), scope)
        await communicator.send_input({"type": "http.request", "body": body})
        start = await communicator.receive_output(5)
        await communicator.receive_output(5)
        await communicator.wait(5)
    return [start["status"], *map(qualname, hops)]


HANDLER_CLOSE = "HttpResponseBase.close"


def qualname(function: Any) -> str:
    return getattr(function, "__qualname__", type(function).__qualname__)
