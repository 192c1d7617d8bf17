"""The request space the bad-input tests draw from: every served route of the
registry, odd path values and query strings, bodies from almost-valid JSON to
random bytes, content types, idempotency keys; and a fixed corpus of hard
bodies."""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from tests.faults.odd_values import (
    CONTENT_TYPES,
    IDEMPOTENCY_KEYS,
    JSON_TYPES,
    NASTY_JSON,
    ODD_FIELD_VALUES,
    PK,
    VALID_SEGMENTS,
    bodies,
    json_bodies,
    path_values,
    query_strings,
)
from topics.pairs import PAIRS
from topics.registry import Example

METHODS = ("GET", "POST", "PATCH", "DELETE", "PUT")


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
