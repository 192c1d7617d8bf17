"""Django's default middleware in a stack: the hop-free drop-ins the audit
names, and the hops it counts for a drop-in (topics.hopfree)."""

from django.conf import settings
from django.test import SimpleTestCase, override_settings

from tests.audit.hops import measured_hops
from tests.audit.planted import DJANGO_DEFAULT_MIDDLEWARE
from topics.audit.stack import audit_middleware

SYNC_ONLY = "tests.audit.planted.SyncOnlyMiddleware"
FRAMED = "tests.audit.planted.FramedXFrameOptionsMiddleware"
ORIGIN_CSRF = "tests.audit.planted.OriginCsrfViewMiddleware"
OWN_CSRF = "tests.audit.planted.OwnCsrfViewMiddleware"
DJANGO_CSRF = "django.middleware.csrf.CsrfViewMiddleware"
DJANGO_SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
PLANTED_SESSION_ENGINE = "tests.audit.planted_session_engine"


def by_code(findings, code: str) -> list:
    return [finding for finding in findings if finding.code == code]


class HopFreeAvailableTests(SimpleTestCase):
    def test_django_defaults_are_named_with_their_drop_ins_and_the_hops_saved(self):
        """Each of the seven, its drop-in and the hops its row costs now: 13
        in all, in one info at MIDDLEWARE."""
        rows, findings = audit_middleware(DJANGO_DEFAULT_MIDDLEWARE)

        [available] = by_code(findings, "middleware.hopfree-available")
        self.assertEqual((available.level, available.location), ("info", "MIDDLEWARE"))
        self.assertIn("at 13 thread hop(s) per request", available.message)
        self.assertIn("save 13:", available.message)
        for row in rows:
            name = row.path.rsplit(".", 1)[1]
            self.assertIn(
                f"{row.path} → topics.hopfree.{name} ({row.hops})", available.message
            )
        self.assertIn("when SessionMiddleware saves a session", available.message)
        self.assertIn("topics.hopfree is installed with the audit", available.fix)

    def test_this_projects_stack_is_hop_free(self):
        """The drop-ins: no hop per request and nothing to replace, the hops
        they take only when they do I/O told in the total."""
        rows, findings = audit_middleware(settings.MIDDLEWARE)

        self.assertEqual([row.hops for row in rows], [0] * len(rows))
        self.assertEqual([f.code for f in findings], ["middleware.hops"])
        self.assertIn(" 0 thread hop(s) per request", findings[0].message)
        self.assertIn(
            "one more when topics.hopfree.SessionMiddleware saves a session",
            findings[0].message,
        )

    def test_a_sync_only_middleware_inside_them_leaves_nothing_to_save(self):
        """Run sync, their hooks cost no hop: no finding when a sync-only
        middleware is innermost, only those below it when it is between."""
        _, innermost = audit_middleware([*DJANGO_DEFAULT_MIDDLEWARE, SYNC_ONLY])
        _, between = audit_middleware(
            [*DJANGO_DEFAULT_MIDDLEWARE[:2], SYNC_ONLY, *DJANGO_DEFAULT_MIDDLEWARE[2:]]
        )

        self.assertEqual(by_code(innermost, "middleware.hopfree-available"), [])
        self.assertEqual(by_code(innermost, "middleware.mixin-hops"), [])
        [available] = by_code(between, "middleware.hopfree-available")
        self.assertIn("5 of Django's default middleware", available.message)
        self.assertIn("save 9:", available.message)
        self.assertNotIn(DJANGO_SESSION, available.message)

    def test_a_subclass_of_a_default_is_named_not_counted(self):
        """What a drop-in saves a subclass depends on what it overrides: it is
        named, and its hops are not in the sum."""
        stack = [OWN_CSRF if p == DJANGO_CSRF else p for p in DJANGO_DEFAULT_MIDDLEWARE]

        _, findings = audit_middleware(stack)

        [available] = by_code(findings, "middleware.hopfree-available")
        self.assertIn("save 10:", available.message)
        self.assertIn(f"Your subclass(es) {OWN_CSRF} can subclass", available.message)
        self.assertNotIn(f"{OWN_CSRF} →", available.message)

    @override_settings(SESSION_ENGINE=PLANTED_SESSION_ENGINE)
    def test_a_session_store_not_djangos_keeps_its_hops(self):
        """The drop-in runs a store it does not know in Django's hops: nothing
        saved for SessionMiddleware, and no finding for it alone."""
        _, alone = audit_middleware([DJANGO_SESSION])
        _, findings = audit_middleware(DJANGO_DEFAULT_MIDDLEWARE)
        rows, drop_in = audit_middleware(["topics.hopfree.SessionMiddleware"])

        self.assertEqual(by_code(alone, "middleware.hopfree-available"), [])
        [available] = by_code(findings, "middleware.hopfree-available")
        self.assertIn("save 11:", available.message)
        self.assertIn(
            "(0: its session store is not Django's, so it keeps all 2)",
            available.message,
        )
        self.assertEqual([row.hops for row in rows], [2])
        [hops] = by_code(drop_in, "middleware.mixin-hops")
        self.assertIn(
            "in process_request, process_response: the drop-in cannot tell",
            hops.message,
        )


class DropInHopsTests(SimpleTestCase):
    def test_a_subclass_overriding_a_method_a_hook_calls_takes_its_hop_back(self):
        """get_xframe_options_value overridden: process_response in a thread."""
        rows, findings = audit_middleware([FRAMED])

        self.assertEqual([row.hops for row in rows], [1])
        [hops] = by_code(findings, "middleware.mixin-hops")
        self.assertIn("1 sync_to_async hop(s) per request", hops.message)
        self.assertIn("in process_response: the class overrides", hops.message)

    def test_a_subclass_overriding_a_check_takes_process_views_hop_back(self):
        """A CSRF check overridden: process_view in a thread, the rest inline."""
        rows, findings = audit_middleware([ORIGIN_CSRF])

        self.assertEqual([row.hops for row in rows], [1])
        [hops] = by_code(findings, "middleware.mixin-hops")
        self.assertIn("in process_view: the class overrides", hops.message)

    async def test_drop_in_hops_are_what_django_does(self):
        """The audit's hops equal the sync_to_async/async_to_sync calls measured."""
        baseline = await measured_hops([])
        cases = [
            ([FRAMED], {}),
            ([ORIGIN_CSRF], {}),
            (["topics.hopfree.SessionMiddleware"], {}),
            (
                ["topics.hopfree.SessionMiddleware"],
                {"SESSION_ENGINE": PLANTED_SESSION_ENGINE},
            ),
        ]
        for stack, overrides in cases:
            with override_settings(**overrides):
                rows, _ = audit_middleware(stack)

            measured = await measured_hops(stack, **overrides) - baseline

            self.assertEqual(
                sum(row.hops for row in rows), measured, (stack, overrides)
            )
