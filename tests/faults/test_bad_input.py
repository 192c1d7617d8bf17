"""Bad input over the whole request space: only documented statuses, never a 500.

Hypothesis draws requests to every served route of the registry (both prefixes
and the variants): any method, odd path values, odd query strings, bodies from
almost-valid JSON to random bytes, any content type; a second test aims odd
JSON at the views that read it, and a fixed corpus of hard bodies always runs.
The test client re-raises what a view raises, so a crash fails the test instead
of becoming a 500 page.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpResponse
from django.test import AsyncClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from tests.asgi import whole_body
from topics.models import Topic
from topics.pairs import NEW_TOPIC, PAIRS
from topics.registry import Example, Pair
from topics.seeding import (
    DEMO_USERNAME,
    seed_demo_exports,
    seed_demo_user,
    seed_topics,
)
from topics.upstream.client import http_session

# What the API documents (README, topics/api.py). 302: login_required sends an
# anonymous visitor of /me/ to the login page. 503 is absent: the database is up.
DOCUMENTED = {200, 201, 202, 204, 302, 400, 403, 404, 405, 409, 413, 415, 422}
# The upstream pairs also answer a failed upstream (502) or a spent budget (504).
UPSTREAM_FAILURES = {502, 504}
METHODS = ("GET", "POST", "PATCH", "DELETE", "PUT")
PK = "{pk}"  # stands for the id of an existing topic, known once it is seeded
# A valid value for each kind of path parameter: a slug, an id, an export.
VALID_SEGMENTS = ["topic-1", PK, "demo.csv"]
# Per Hypothesis test: each example is a request; with the corpus test, the
# module takes 15 to 25 s.
EXAMPLES = 150


@dataclass(frozen=True, eq=False)
class Route:
    prefix: str
    template: str  # the pair's route, "<slug:slug>" parts and all
    pair: str
    upstream: bool  # calls the fake upstream
    methods: tuple[str, ...]  # the methods of the pair's examples
    body_example: Example | None  # its first example with a JSON body

    @property
    def parameters(self) -> list[str]:
        return PARAMETER.findall(self.template)


PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
ROUTES = [
    Route(
        prefix=twin.prefix,
        template=pair.route,
        pair=pair.name,
        upstream=pair.family.startswith("Upstream"),
        methods=tuple(sorted({example.method for example in pair.requests})),
        body_example=next(
            (example for example in pair.requests if example.json is not None),
            None,
        ),
    )
    for pair in PAIRS
    for twin in pair.twins()
]


def _example_queries(pairs: list[Pair]) -> dict[str, list[str]]:
    """Every query parameter the registry's examples use, with their values."""
    values: dict[str, set[str]] = {}
    for pair in pairs:
        for example in pair.requests:
            query = urlsplit(example.path).query
            for name, value in parse_qsl(query, keep_blank_values=True):
                # A slow source costs two seconds an example; the fan-out tests
                # cover it.
                if "slow" not in value:
                    values.setdefault(name, set()).add(value)
    return {name: sorted(found) for name, found in sorted(values.items())}


KNOWN_QUERY = _example_queries(PAIRS)

# Values that are wrong in ways a parser can get wrong: int() accepts some of
# them, others overflow a column, or are not text a database stores.
ODD_TEXT = [
    "",
    " ",
    "0",
    "-1",
    "+1",
    " 1",
    "1_000",
    "1.5",
    "1e3",
    "0x1F",
    "NaN",
    "inf",
    "null",
    "9" * 30,
    str(2**63),
    str(2**63 - 1),
    "9" * 5000,
    "١٢٣",  # Arabic-Indic digits: str.isdigit() says yes
    "\uff11\uff12",  # fullwidth digits
    "²",
    "\x00",
    "a\x00b",
    "\ud800",  # a lone surrogate: not UTF-8
    "\udfff",
    "\ufeff",
    "\u202e",
    "e\u0301",
    "é",
    "ÿ",
    "日本語",
    "\U0001f600",
    "\U0001d518\U0001d52b\U0001d526",  # mathematical letters: NFKC makes "Uni"
    "a" * 201,
    "a" * 10_000,
    "..",
    ".",
    "../../etc/passwd",
    "a/b",
    "a?b=c",
    "#frag",
    "%",
    "%00",
    "%2F",
    "%ff",
    "%zz",
    "<script>",
    "' OR 1=1 --",
    "%s%n",
    "{}",
    "[]",
    "\\",
    "\r\n\t",
    "topic-1",
    "Ada Lovelace",
    "django",
    "demo.csv",
    "demo.jsonl",
    ".hidden.csv",
    "missing.csv",
    "demo.txt",
]

# Any code point, lone surrogates included (Hypothesis's characters() avoids them).
odd_characters = st.one_of(
    st.characters(), st.integers(0xD800, 0xDFFF).map(chr), st.sampled_from("\x00\n")
)
odd_text = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.lists(odd_characters, max_size=12).map("".join),
)


def encoded(text: str) -> str:
    """Percent-encoded as UTF-8; a lone surrogate becomes invalid UTF-8."""
    return quote(text, safe="", errors="surrogatepass")


@st.composite
def path_values(draw: st.DrawFn) -> str:
    """A path segment: valid, odd, percent-encoded or sent as is."""
    value = draw(st.one_of(st.sampled_from(VALID_SEGMENTS), odd_text))
    if value in VALID_SEGMENTS:
        return value
    raw = draw(st.booleans())
    # A surrogate cannot be sent as is: the test client encodes paths as UTF-8.
    if raw and value.isascii():
        return value
    return encoded(value)


@st.composite
def query_strings(draw: st.DrawFn) -> str:
    """Known parameters with valid or odd values, unknown ones, or junk."""
    known = st.sampled_from(list(KNOWN_QUERY))
    name = st.one_of(known, known, odd_text)
    pairs = []
    for _ in range(draw(st.integers(0, 4))):
        key = draw(name)
        choices = [odd_text]
        if key in KNOWN_QUERY:
            choices.append(st.sampled_from(KNOWN_QUERY[key]))
        pairs.append((key, draw(st.one_of(*choices))))
    query = urlencode(pairs, quote_via=quote, errors="surrogatepass")
    junk = st.sampled_from(["&&&", "=", "a=%zz", "%00=%00", "page=1&page=2", ";"])
    if draw(st.booleans()):
        return query
    return "&".join(filter(None, [query, draw(junk)]))


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(),  # NaN and the infinities too: json.loads accepts them
        odd_text,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(odd_text, children, max_size=3),
    ),
    max_leaves=6,
)
FIELDS = ["title", "slug", "body", "author", "tags", "revision"]
UPDATE = {"title": "Renamed", "body": "Checked.", "revision": 1}


@st.composite
def json_documents(draw: st.DrawFn) -> Any:
    """Mostly a valid topic with a field or two made odd; sometimes anything."""
    base = draw(st.sampled_from([NEW_TOPIC, UPDATE]))
    kind = draw(st.sampled_from(["one field odd", "one field odd", "mixed", "any"]))
    if kind == "one field odd":
        # Everything else valid, so the odd value gets as far as the database.
        fields = st.sampled_from(list(base))
        odd = st.dictionaries(fields, st.one_of(odd_text, json_values), max_size=2)
        return {**base, **draw(odd)}
    if kind == "mixed":
        kept = {k: v for k, v in base.items() if draw(st.booleans())}
        keys = st.one_of(st.sampled_from([*FIELDS, "colour"]), odd_text)
        return {**kept, **draw(st.dictionaries(keys, json_values, max_size=3))}
    return draw(json_values)


# Malformed, or valid JSON that is hard to take: deep, huge, or not UTF-8 inside.
NASTY_JSON = [
    b"{not json",
    b"{",
    b'{"title": "x",}',
    b"[1,",
    b'{"title": "\\ud800"}',  # valid JSON, a lone surrogate once decoded
    b"\xef\xbb\xbf{}",  # a UTF-8 byte order mark
    b"1e99999",
    b'"\\u0000"',
    b"[" * 100_000,  # nesting deeper than the parser recurses
    b'{"a":' * 50_000,
    # Over DATA_UPLOAD_MAX_MEMORY_SIZE (the guard that answers 413 in front of
    # Django is not in the test client's stack).
    b'{"title": "' + b"x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}',
]


def _encoded_json(draw: st.DrawFn) -> bytes:
    """A drawn JSON document, encoded in a drawn encoding."""
    text = json.dumps(draw(json_documents()), ensure_ascii=draw(st.booleans()))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"]))
    # UTF-8 with a lone surrogate is invalid UTF-8; latin-1 loses what it lacks.
    return text.encode(
        encoding, errors="surrogatepass" if "utf" in encoding else "replace"
    )


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """JSON in some encoding, nasty JSON, random bytes, odd text, or nothing."""
    kind = draw(st.sampled_from(["json", "json", "nasty", "bytes", "text", ""]))
    if kind == "json":
        return _encoded_json(draw)
    if kind == "nasty":
        return draw(st.sampled_from(NASTY_JSON))
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    if kind == "text":
        return draw(odd_text).encode("utf-8", errors="surrogatepass")
    return b""


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    """A JSON body with odd values, or nasty JSON."""
    if draw(st.integers(1, 4)) == 1:
        return draw(st.sampled_from(NASTY_JSON))
    return _encoded_json(draw)


# ASCII only: the test client sends the header as ASCII, as a server would.
JSON_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=utf-16",
    "application/json; charset=nonsense",
    "APPLICATION/JSON",
    "application/json;",
]
CONTENT_TYPES = [
    *JSON_TYPES,
    "application/merge-patch+json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "text/plain",
    "*/*",
    ";;;",
    'application/json; charset="',
    "a" * 300,
    "",  # an empty header: to Django the same as none
]
IDEMPOTENCY_KEYS = [None, None, "key-1", "two words", "é", "k" * 256, ""]


@dataclass(frozen=True)
class BadRequest:
    route: Route
    method: str
    segments: tuple[str, ...]
    slash: bool  # the route's trailing slash, or a client that left it out
    query: str
    body: bytes = field(repr=False)
    content_type: str
    idempotency_key: str | None
    logged_in: bool

    def path(self, pk: int | str) -> str:
        """The path and query; `pk` replaces the {pk} of an existing topic."""
        values = iter(self.segments)
        path = PARAMETER.sub(lambda _: next(values), self.route.template)
        path = f"/{self.route.prefix}/{path.replace(PK, str(pk))}"
        path = path if self.slash else path.removesuffix("/")
        return f"{path}?{self.query}" if self.query else path

    def __repr__(self) -> str:
        # A body of megabytes would bury the falsifying example.
        body = self.body if len(self.body) <= 200 else self.body[:200] + b"..."
        fields = {
            "method": self.method,
            "path": self.path(PK),  # {pk}: topic-1's id
            "body": body,
            "body_length": len(self.body),
            "content_type": self.content_type,
            "idempotency_key": self.idempotency_key,
            "logged_in": self.logged_in,
        }
        return f"BadRequest({', '.join(f'{k}={v!r}' for k, v in fields.items())})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints a dataclass field by field, body and all: not this one.
        printer.text(repr(self))


@st.composite
def any_requests(draw: st.DrawFn) -> BadRequest:
    """Any route, any method (often the route's own), anything in every part."""
    route = draw(st.sampled_from(ROUTES))
    return BadRequest(
        route=route,
        method=draw(st.sampled_from(draw(st.sampled_from([METHODS, route.methods])))),
        segments=tuple(draw(path_values()) for _ in route.parameters),
        slash=draw(st.integers(1, 10)) > 1,
        query=draw(query_strings()),
        body=draw(bodies()),
        content_type=draw(
            st.sampled_from(draw(st.sampled_from([JSON_TYPES, CONTENT_TYPES])))
        ),
        idempotency_key=draw(st.sampled_from(IDEMPOTENCY_KEYS)),
        logged_in=draw(st.booleans()),
    )


# The routes that read a JSON body: there odd bodies get past the first checks.
BODY_ROUTES = [route for route in ROUTES if route.body_example is not None]


@st.composite
def body_requests(draw: st.DrawFn) -> BadRequest:
    """A JSON body, odd or malformed, to a route that reads one, as it expects."""
    route = draw(st.sampled_from(BODY_ROUTES))
    return BadRequest(
        route=route,
        method=route.body_example.method,
        segments=tuple(VALID_SEGMENTS[0] for _ in route.parameters),
        slash=True,
        query="",
        body=draw(json_bodies()),
        content_type=draw(st.sampled_from(JSON_TYPES)),
        idempotency_key=draw(st.sampled_from(IDEMPOTENCY_KEYS)),
        logged_in=False,
    )


# Values each field of a write's example is given in turn, by the corpus test.
ODD_FIELD_VALUES = ["\ud800", ["\ud800"], "a\x00b", 2**64, {"nested": "object"}]


def corpus() -> list[BadRequest]:
    """Every nasty body, and every field of the examples made odd, to every write.

    Hypothesis samples this space; these always run, so that a known hard case
    never depends on the draw.
    """
    requests = []
    for route in BODY_ROUTES:
        example = route.body_example
        payloads = [*NASTY_JSON]
        for name in example.json:
            for value in ODD_FIELD_VALUES:
                payloads.append(json.dumps({**example.json, name: value}).encode())
        requests += [
            BadRequest(
                route=route,
                method=example.method,
                segments=tuple(VALID_SEGMENTS[0] for _ in route.parameters),
                slash=True,
                query="",
                body=body,
                content_type="application/json",
                idempotency_key=None,
                logged_in=False,
            )
            for body in payloads
        ]
    return requests


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
            self.assertFalse(request.logged_in)
            self.assertTrue(response["Location"].startswith("/accounts/login/"))
        if status == 204:  # a deletion, or a logout
            self.assertEqual(body, b"")
            self.assertTrue(
                request.method == "DELETE" or request.route.pair == "log_out",
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
