"""The registry's guarantees: every twin is real, every route is served."""

import re
from unittest import mock

from asgiref.sync import async_to_sync, sync_to_async
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.http import HttpRequest, HttpResponse
from django.test import SimpleTestCase
from django.urls import resolve, reverse

from tests.twins import prefixes, urls
from topics import checks
from topics.pairs import PAIRS
from topics.registry import Pair, Variant
from topics.views import orm


def plain_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


async def coroutine_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def pair(**overrides) -> Pair:
    fields = {
        "name": "topic_list",
        "family": "ORM",
        "route": "topics/",
        "sync_view": orm.topic_list,
        "async_view": orm.atopic_list,
        "lesson": "A lesson.",
        "examples": ("topics/",),
    }
    return Pair(**{**fields, **overrides})


def error_ids(pairs: list[Pair]) -> list[str]:
    return [error.id for error in checks.check_pairs(pairs=pairs)]


class PairCheckTests(SimpleTestCase):
    # `manage.py check` runs the model checks too: the JSONField's asks SQLite,
    # once per connection, whether it supports JSON.
    databases = {"default"}

    def test_registry_passes_its_checks(self):
        """The shipped registry has no errors."""
        self.assertEqual(checks.check_pairs(), [])

    def test_sync_view_as_async_twin_fails(self):
        """A plain def registered as the async twin is E001, with its name."""
        errors = checks.check_pairs(pairs=[pair(async_view=plain_view)])

        self.assertEqual([error.id for error in errors], ["topics.E001", "topics.E005"])
        self.assertEqual(
            errors[0].msg,
            "Pair 'topic_list': the async view tests.test_pairs.plain_view is not a "
            "coroutine function.",
        )

    def test_sync_to_async_wrapped_twin_fails(self):
        """sync_to_async(sync twin) passes as a coroutine function but is E002."""
        self.assertIn(
            "topics.E002", error_ids([pair(async_view=sync_to_async(plain_view))])
        )

    def test_coroutine_as_sync_twin_fails(self):
        """An async def, or async_to_sync() around one, as the sync twin is E003."""
        self.assertIn("topics.E003", error_ids([pair(sync_view=coroutine_view)]))
        self.assertIn(
            "topics.E003", error_ids([pair(sync_view=async_to_sync(coroutine_view))])
        )

    def test_variant_mode_is_checked(self):
        """A variant declared async must be a coroutine function."""
        variant = Variant(name="fake", mode="async", view=plain_view, lesson="-")

        self.assertIn("topics.E001", error_ids([pair(variants=(variant,))]))

    def test_duplicate_names_and_missing_examples_fail(self):
        """Names are unique and every pair has an example."""
        self.assertIn("topics.E004", error_ids([pair(), pair()]))
        self.assertIn("topics.E006", error_ids([pair(examples=())]))

    def test_example_not_served_by_the_twin_fails(self):
        """An example that resolves to another view, or to none, is E005."""
        self.assertIn("topics.E005", error_ids([pair(examples=("topics/x/",))]))
        self.assertIn("topics.E005", error_ids([pair(examples=("nowhere/",))]))

    def test_manage_py_check_fails_on_a_fake_twin(self):
        """`manage.py check` stops on a registry error, naming the view."""
        bad = [pair(async_view=plain_view, examples=("topics/",))]

        with (
            mock.patch.object(checks, "PAIRS", bad),
            self.assertRaisesMessage(SystemCheckError, "is not a coroutine function"),
        ):
            call_command("check")


class PairRouteTests(SimpleTestCase):
    def test_every_twin_is_routed_under_its_prefix(self):
        """URL names are the view names; paths mirror /sync/ and /async/."""
        for registered in PAIRS:
            for twin in registered.twins():
                url = reverse(f"topics:{twin.view_name}", kwargs=_kwargs(registered))

                self.assertIs(url.startswith(f"/{twin.prefix}/"), True, url)

    def test_the_tests_twin_helpers_follow_the_registry(self):
        """tests.twins lists every twin in Pair.twins() order, variants last, and
        without them keeps sync and async; each URL resolves to its twin."""
        for registered in PAIRS:
            with self.subTest(pair=registered.name):
                names = [twin.view_name for twin in registered.twins()]
                served = urls(registered.name, **_kwargs(registered))

                self.assertEqual(
                    prefixes(registered.name),
                    [twin.prefix for twin in registered.twins()],
                )
                self.assertEqual(
                    prefixes(registered.name, variants=False), ["sync", "async"]
                )
                self.assertEqual([resolve(url).url_name for url in served], names)


def _kwargs(registered: Pair) -> dict[str, str]:
    """A value for each of the route's parameters."""
    return dict.fromkeys(re.findall(r"<(?:\w+:)?(\w+)>", registered.route), "x")
