"""topics.hopfree against Django's own default middleware: the same responses,
cookies, sessions and logs over a matrix of settings and requests.

The matrix (tests/hopfree_support.py) drives both stacks with the same requests
and compares what a client and the server keep: status, headers, cookies and
their flags, the body (CSRF tokens masked: they are random per response), the
stored session, and the warnings Django logs. The mutation tests prove the
matrix notices a hook that does not run. The hops: tests/test_hopfree_hops.py.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.contrib.auth import get_user_model
from django.middleware import csrf
from django.test import (
    TestCase,
    override_settings,
)

from tests.hopfree_support import HOPFREE_STACK, SCENARIOS, VARIANTS, differences, play
from topics import hopfree


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
