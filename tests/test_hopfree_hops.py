"""topics.hopfree's hops, counted: none for an anonymous GET, the user's loads and
the session's save logged in, the multipart parse; a subclass that overrides a
hook, or an unknown session engine, gets Django's hop back."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.test import (
    AsyncClient,
    TestCase,
    TransactionTestCase,
    override_settings,
)

from tests.hopfree_support import (
    DJANGO_STACK,
    HANDLER_CLOSE,
    HOPFREE_STACK,
    URLS,
    hops_of,
    qualname,
)
from tests.queries import hops_counted
from topics import hopfree


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
        self.assertIs(csrf_middleware.async_mode, False)
        self.assertNotIn("process_view", vars(csrf_middleware))

        async def aget_response(request: HttpRequest) -> None:
            return None

        self.assertIn("process_view", vars(hopfree.CsrfViewMiddleware(aget_response)))

    def test_an_unknown_session_engine_hops(self):
        """Only Django's engines are known to build a store without I/O."""
        with override_settings(SESSION_ENGINE="tests.test_hopfree_hops"):
            self.assertEqual(hopfree.SessionMiddleware(lambda r: None).inline, set())
        self.assertEqual(
            hopfree.SessionMiddleware(lambda r: None).inline,
            {"process_request", "process_response"},
        )


class SessionStore(SessionBase):
    """An engine of a project's own (SESSION_ENGINE = this module)."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
