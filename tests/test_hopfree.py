"""topics.hopfree against Django's own default middleware: the same responses,
cookies, sessions and logs over a matrix of settings and requests; fewer hops.

The matrix drives both stacks with the same requests and compares what a client
and the server keep: status, headers, cookies and their flags, the body (CSRF
tokens masked: they are random per response), the stored session, and the
warnings Django logs. The mutation tests prove the matrix notices a hook that
does not run.
"""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any
from unittest import mock

from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.backends.base import SessionBase
from django.core.asgi import get_asgi_application
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.middleware import csrf
from django.test import (
    AsyncClient,
    Client,
    TestCase,
    TransactionTestCase,
    override_settings,
)
from django.test.client import MULTIPART_CONTENT

from tests.asgi import http_scope
from tests.audit.planted import DJANGO_DEFAULT_MIDDLEWARE
from tests.queries import hops_counted
from topics import hopfree

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


class EquivalenceTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        get_user_model().objects.create_user("eve", password="s3cret-pass")

    async def test_the_same_as_djangos_stack_under_asgi(self):
        """Every step of every scenario under every variant, compared."""
        self.assertEqual(await differences(), [])

    async def test_the_same_as_djangos_stack_under_wsgi(self):
        """Sync mode is Django's own MiddlewareMixin path."""
        self.assertEqual(await differences(wsgi=True), [])

    async def test_the_matrix_sees_each_rejection_and_redirect(self):
        """The matrix is not vacuous: each security outcome happens in it."""
        outcomes = []
        for overrides in VARIANTS.values():
            with override_settings(**overrides):
                for steps in SCENARIOS.values():
                    outcomes += await play(steps, HOPFREE_STACK, wsgi=False)
        statuses = {o["status"] for o in outcomes if isinstance(o, dict)}
        self.assertLessEqual({200, 301, 403, 404, 503}, statuses)
        logged = " ".join(
            message
            for o in outcomes
            if isinstance(o, dict)
            for *_, message in o["logs"]
        )
        for reason in (
            "CSRF cookie not set.",
            "CSRF token missing.",
            "CSRF token from POST has incorrect length.",
            "CSRF token from POST incorrect.",
            "CSRF token from the 'X-Csrftoken' HTTP header incorrect.",
            "Origin checking failed - http://evil.example does not match",
            "Referer checking failed - no Referer.",
            "Referer checking failed - Referer is insecure while host is secure.",
        ):
            with self.subTest(reason=reason):
                self.assertIn(reason, logged)
        headers = [o["headers"] for o in outcomes if isinstance(o, dict)]
        self.assertIn(
            "max-age=3600; includeSubDomains; preload",
            {h.get("Strict-Transport-Security") for h in headers},
        )
        self.assertLessEqual(
            {"DENY", "SAMEORIGIN"}, {h.get("X-Frame-Options") for h in headers}
        )
        raised = {o[1] for o in outcomes if isinstance(o, tuple)}
        self.assertIn("RuntimeError", raised)  # APPEND_SLASH + DEBUG + POST


# Each hook of each class, and what skipping it returns in its place.
HOOKS = [
    (cls, hook)
    for cls in (getattr(hopfree, name) for name in hopfree.__all__)
    for hook in cls.inline_hooks
]


@contextmanager
def hook_skipped(cls: type, hook: str) -> Iterator[None]:
    """cls's hook does not run, inline or in a hop: a mutant of the stack."""
    if hook == "process_view":

        async def skip_view(self, request, *args):
            return None

        with mock.patch.object(cls, "aprocess_view", skip_view):
            yield
        return
    arun = cls._arun

    async def skipping(self, name, request, *args):
        if name == hook:
            return None if name == "process_request" else args[0]
        return await arun(self, name, request, *args)

    with mock.patch.object(cls, "_arun", skipping):
        yield


class MutationTests(TestCase):
    """Skip any one hook, and the matrix tells."""

    @classmethod
    def setUpTestData(cls) -> None:
        get_user_model().objects.create_user("eve", password="s3cret-pass")

    async def test_running_io_on_the_loop_is_seen(self):
        """Each class's I/O rule, and the CSRF rejection's hop, matter: without
        them a hook reads or saves a session, or runs the failure view, on the
        event loop (SynchronousOnlyOperation)."""
        always = mock.patch.object  # each mutant: one rule says "no I/O" always
        mutants = {
            f"{cls.__name__}.hook_is_io_free": always(
                cls, "hook_is_io_free", lambda *args: True
            )
            for cls in (
                hopfree.SessionMiddleware,
                hopfree.CsrfViewMiddleware,
                hopfree.MessageMiddleware,
            )
        }
        mutants["CsrfViewMiddleware._reject"] = always(
            hopfree.CsrfViewMiddleware, "_reject", csrf.CsrfViewMiddleware._reject
        )
        for name, mutant in mutants.items():
            with self.subTest(name), mutant:
                found = await differences(first_only=True)
                self.assertNotEqual(found, [])
                self.assertIn("SynchronousOnlyOperation", found[0])

    async def test_skipping_any_hook_is_seen(self):
        for cls, hook in HOOKS:
            with self.subTest(f"{cls.__name__}.{hook}"), hook_skipped(cls, hook):
                self.assertNotEqual(await differences(first_only=True), [])


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


class HopCountTests(TransactionTestCase):
    """Real hops, counted: committed data, as Django's handler runs each request
    in a ThreadSensitiveContext whose thread has its own connection."""

    def setUp(self) -> None:
        get_user_model().objects.create_user("eve", password="s3cret-pass")

    async def login_cookie(self) -> str:
        client = AsyncClient()
        await client.alogin(username="eve", password="s3cret-pass")
        return f"sessionid={client.cookies['sessionid'].value}"

    async def test_an_anonymous_get_takes_no_middleware_hop(self):
        """16 hops with Django's defaults, 3 hop-free: the request_started
        signal's receivers, the view's query, and close() (request_finished)."""
        with override_settings(MIDDLEWARE=DJANGO_STACK):
            django = await hops_of("/async/topics/")
        with override_settings(MIDDLEWARE=HOPFREE_STACK):
            ours = await hops_of("/async/topics/")
        self.assertEqual(len(django), 1 + 16)
        self.assertEqual(sum("Middleware." in hop for hop in django[1:]), 13)
        self.assertEqual(
            ours, [200, "Signal.asend.<locals>.sync_send", "list", HANDLER_CLOSE]
        )

    async def test_logged_in_the_user_loads_and_the_save_are_the_hops(self):
        """Logged in: 5 hops, all but the handler's the view's (its session, its
        user, the async login_required's test_func). A session save adds the
        one hop of SessionMiddleware.process_response: 6, against Django's 18."""
        cookie = await self.login_cookie()
        view = [
            "QuerySet.get",  # the session, loaded by request.auser()
            "QuerySet.get",  # the user
            "login_required.<locals>.<lambda>",  # Django runs test_func in a thread
        ]
        with override_settings(MIDDLEWARE=HOPFREE_STACK):
            read = await hops_of("/async/me/", cookie=cookie)
            saved = await hops_of("/async/me/?theme=dark", cookie=cookie)
        with override_settings(MIDDLEWARE=DJANGO_STACK):
            django = await hops_of("/async/me/?theme=dark", cookie=cookie)
        signal = "Signal.asend.<locals>.sync_send"
        self.assertEqual(read, [200, signal, *view, HANDLER_CLOSE])
        self.assertEqual(
            saved,
            [200, signal, *view, "SessionMiddleware.process_response", HANDLER_CLOSE],
        )
        self.assertEqual(len(django), 1 + 18)

    async def test_a_multipart_post_parses_in_a_hop(self):
        """Its upload handlers may write to disk: process_view takes Django's hop,
        and a urlencoded POST does not."""
        client = AsyncClient(enforce_csrf_checks=True)
        with override_settings(MIDDLEWARE=HOPFREE_STACK, ROOT_URLCONF=URLS):
            token = (await client.get("/eq/token/")).json()["token"]
            fields = {"csrfmiddlewaretoken": token}
            upload = SimpleUploadedFile("a.txt", b"a file\n")
            with hops_counted() as multipart:
                response = await client.post("/eq/form/", {**fields, "file": upload})
            self.assertEqual(response.status_code, 200)
            with hops_counted() as urlencoded:
                response = await client.post(
                    "/eq/form/",
                    f"csrfmiddlewaretoken={token}",
                    content_type="application/x-www-form-urlencoded",
                )
            self.assertEqual(response.status_code, 200)
        self.assertIn("CsrfViewMiddleware.process_view", map(qualname, multipart))
        self.assertNotIn("CsrfViewMiddleware.process_view", map(qualname, urlencoded))


HANDLER_CLOSE = "HttpResponseBase.close"


def qualname(function: Any) -> str:
    return getattr(function, "__qualname__", type(function).__qualname__)


class QueryingXFrameOptions(hopfree.XFrameOptionsMiddleware):
    """Overrides the method Django documents for overriding, with a query."""

    def get_xframe_options_value(self, request: HttpRequest, response: Any) -> str:
        staff = get_user_model().objects.filter(is_staff=True).exists()
        return "SAMEORIGIN" if staff else "DENY"


class SubclassTests(TestCase):
    """A subclass that overrides a hook, or what a hook calls, gets the hop back."""

    def test_an_override_takes_its_hooks_off_the_loop(self):
        cases = [
            (hopfree.SecurityMiddleware, "process_request", {"process_response"}),
            (hopfree.CommonMiddleware, "should_redirect_with_slash", set()),
            (
                hopfree.CsrfViewMiddleware,
                "_check_token",
                {"process_request", "process_response"},
            ),
            (
                hopfree.CsrfViewMiddleware,
                "_set_csrf_cookie",
                {"process_request", "process_view"},
            ),
            (hopfree.SessionMiddleware, "process_response", {"process_request"}),
            (hopfree.XFrameOptionsMiddleware, "get_xframe_options_value", set()),
        ]
        for base, method, inline in cases:
            with self.subTest(f"{base.__name__}.{method}"):

                def override(self, *args, _method=method):
                    return getattr(super(type(self), self), _method)(*args)

                subclass = type("Mine", (base,), {method: override})
                self.assertEqual(subclass.hooks_inline(), inline)
                self.assertEqual(base.hooks_inline(), frozenset(base.inline_hooks))

    async def test_a_querying_override_runs_in_django_s_hop(self):
        """As under Django's own XFrameOptionsMiddleware: no
        SynchronousOnlyOperation, the override's header."""
        path = f"{QueryingXFrameOptions.__module__}.QueryingXFrameOptions"
        with (
            override_settings(MIDDLEWARE=[path], ROOT_URLCONF=URLS),
            hops_counted() as hops,
        ):
            response = await AsyncClient().get("/eq/plain/")
        self.assertEqual(response.headers["X-Frame-Options"], "DENY")
        self.assertIn("XFrameOptionsMiddleware.process_response", map(qualname, hops))

    def test_sync_mode_is_middlewaremixins(self):
        """Under WSGI: no async process_view, MiddlewareMixin's __call__."""
        csrf_middleware = hopfree.CsrfViewMiddleware(lambda request: None)
        self.assertFalse(csrf_middleware.async_mode)
        self.assertNotIn("process_view", vars(csrf_middleware))

        async def aget_response(request: HttpRequest) -> None:
            return None

        self.assertIn("process_view", vars(hopfree.CsrfViewMiddleware(aget_response)))

    def test_an_unknown_session_engine_hops(self):
        """Only Django's engines are known to build a store without I/O."""
        with override_settings(SESSION_ENGINE="tests.test_hopfree"):
            self.assertEqual(hopfree.SessionMiddleware(lambda r: None).inline, set())
        self.assertEqual(
            hopfree.SessionMiddleware(lambda r: None).inline,
            {"process_request", "process_response"},
        )


class SessionStore(SessionBase):
    """An engine of a project's own (SESSION_ENGINE = this module)."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)


class DeployCheckTests(TestCase):
    """Django's deploy checks find its middleware by dotted path: check_deploy
    runs them as if the drop-ins were Django's, so none is skipped."""

    def test_a_missing_hsts_setting_is_still_reported(self):
        from django.core import checks

        with override_settings(SECURE_HSTS_SECONDS=0, MIDDLEWARE=HOPFREE_STACK):
            found = checks.run_checks(include_deployment_checks=True)
            ids = {m.id for m in found if not m.is_silenced()}
        self.assertIn("security.W004", ids)
        self.assertFalse({"security.W001", "security.W002", "security.W003"} & ids)

    def test_a_middleware_truly_missing_is_reported(self):
        from django.core import checks

        with override_settings(MIDDLEWARE=HOPFREE_STACK[:3]):
            found = checks.run_checks(include_deployment_checks=True)
            ids = {m.id for m in found if not m.is_silenced()}
        self.assertLessEqual({"hopfree.security.W002", "hopfree.security.W003"}, ids)
