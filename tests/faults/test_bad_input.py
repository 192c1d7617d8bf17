"""Bad input over the whole request space: only documented statuses, never a 500.

Hypothesis draws requests to every served route of the registry (both prefixes
and the variants): any method, odd path values, odd query strings, bodies from
almost-valid JSON to random bytes, any content type; a second test aims odd
JSON at the views that read it, and a fixed corpus of hard bodies always runs.
The test client re-raises what a view raises, so a crash fails the test instead
of becoming a 500 page."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpResponse
from django.test import AsyncClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.extra.django import TestCase

from project.demo.seeding import (
    DEMO_USERNAME,
    seed_demo_exports,
    seed_demo_user,
    seed_topics,
)
from tests.asgi import whole_body
from tests.faults.bad_requests import BadRequest, any_requests, body_requests, corpus
from topics.models import Topic
from topics.upstream.client import http_session

# What the API documents (README, topics/api.py). 302: login_required sends an
# anonymous visitor of /me/ to the login page. 503 is absent: the database is up.
DOCUMENTED = {200, 201, 202, 204, 302, 400, 403, 404, 405, 409, 413, 415, 422}
# The upstream pairs also answer a failed upstream (502) or a spent budget (504).
UPSTREAM_FAILURES = {502, 504}


# Per Hypothesis test: each example is a request; with the corpus test, the
# module takes 15 to 25 s.
EXAMPLES = 150


def examples(count: int) -> hypothesis_settings:
    """Hypothesis settings for tests whose examples each make a request."""
    return hypothesis_settings(
        max_examples=count,
        deadline=None,  # a request to the upstream pairs takes its time
        database=None,  # nothing written under the project's folder
        suppress_health_check=[HealthCheck.too_slow],
    )


@pytest.mark.usefixtures("upstream")
class BadInputTests(TestCase):
    """Every route, any request: a documented status, and errors as JSON."""

    @classmethod
    def setUpTestData(cls) -> None:
        seed_topics(count=10)
        seed_demo_exports()
        seed_demo_user()
        cls.pk = Topic.objects.get(slug="topic-1").pk

    async def send(self, request: BadRequest) -> tuple[HttpResponse, bytes]:
        client = AsyncClient()
        if request.logged_in:
            user = await get_user_model().objects.aget(username=DEMO_USERNAME)
            await client.aforce_login(user)
        headers = {}
        if request.idempotency_key is not None:
            headers["Idempotency-Key"] = request.idempotency_key
        # The async twins call the upstream through the lifespan's session.
        async with http_session():
            response = await client.generic(
                request.method,
                request.path(self.pk),
                data=request.body,
                content_type=request.content_type,
                headers=headers,
            )
            return response, await whole_body(response)

    def assert_documented(self, request: BadRequest) -> None:
        """Send the request; its answer must be one the API documents."""
        response, body = async_to_sync(self.send)(request)
        status = response.status_code

        allowed = DOCUMENTED | (UPSTREAM_FAILURES if request.route.upstream else set())
        self.assertIn(status, allowed, body[:500])
        if status == 302:
            self.assertIn(
                request.route.pair, ("me", "topic_detail_view", "topic_form_page")
            )
            self.assertIs(request.logged_in, False)
            self.assertIs(response["Location"].startswith("/accounts/login/"), True)
        if status == 204:  # a deletion, or a logout
            self.assertEqual(body, b"")
            self.assertIs(
                request.method == "DELETE" or request.route.pair == "log_out",
                True,
                request,
            )
        if status == 405:
            self.assertNotIn(request.method, response["Allow"].split(", "))
        if status >= 400:
            self.assertEqual(response["Content-Type"], "application/json", body[:500])
            error = json.loads(body)["error"]
            self.assertIsInstance(error["code"], str)
            self.assertIsInstance(error["message"], str)

    def test_corpus_of_hard_bodies(self) -> None:
        """The known hard bodies, each to every write: 4xx JSON, never a 500."""
        for request in corpus():
            # Each from the same data: a create that succeeded would turn the
            # next one into a "slug taken" before its odd value is looked at.
            with self.subTest(request=request), transaction.atomic():
                self.assert_documented(request)
                transaction.set_rollback(True)

    @examples(EXAMPLES)
    @given(request=any_requests())
    def test_any_request_to_any_route(self, request: BadRequest) -> None:
        """Any request to any route: a documented status; a 4xx or 5xx is JSON."""
        self.assert_documented(request)

    @examples(EXAMPLES)
    @given(request=body_requests())
    def test_odd_json_bodies_to_the_writes(self, request: BadRequest) -> None:
        """Odd and malformed JSON to the views that read it: 4xx JSON, never a 500."""
        self.assert_documented(request)
