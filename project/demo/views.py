"""The index page: every pair, its lesson, its twins' code side by side, and a live
comparison of the twins from the browser."""

import difflib
import inspect
import json
import textwrap
from dataclasses import dataclass
from itertools import zip_longest

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from topics.api import api_view
from topics.pairs import PAIRS
from topics.pitfalls.catalogue import PITFALLS
from topics.registry import PLACEHOLDER, Example, Pair, by_family, view_function


@dataclass(frozen=True)
class SentWrite:
    """How the page repeats a write: the JSON field it makes unique per request,
    and the response fields (dotted paths) that grow with the rows it adds."""

    unique: str
    grows: tuple[str, ...] = ()


# The one write the page sends for real (with the page's CSRF token): creating a
# topic, its slug unique per request, so that a repeated compare makes new rows,
# never a 409; each row adds one to its author's count, so the twins' bodies
# differ there by design. Any other write would change the rows (or, for a
# login, this browser's session) that the other cards read: not sent from here.
SENT_WRITES = {"topic_create": SentWrite("slug", grows=("author.topics_count",))}
WRITES_NOT_SENT = (
    "Not compared from here: repeating this write from the browser would change "
    "the rows (or, logging in, the session) the other cards read. The parity "
    "tests send each request listed below to both twins."
)


@dataclass(frozen=True)
class CodeRow:
    """One line of the side-by-side code; None where a side has no line here."""

    sync: str | None
    async_: str | None
    changed: bool


@dataclass(frozen=True)
class Card:
    """What the page shows for one pair."""

    pair: Pair
    requests: list[dict]  # what the Compare control may send, as the JS reads it
    not_sent: str  # why a write route offers no compare, or ""
    code: list[CodeRow]


def is_write_route(pair: Pair) -> bool:
    """Whether the pair's route is a write: the registry lists the accepted request
    first, so a write route's GET examples are its 405 refusals."""
    return pair.requests[0].method != "GET"


def view_source(view: object) -> str:
    """The source of a view (a class-based view's whole class), read now, dedented.

    inspect.getsource() re-reads the file when it has changed (linecache.checkcache),
    so the page shows the code as it is, never a copy that could drift.
    """
    target = getattr(inspect.unwrap(view), "view_class", None) or view_function(view)
    return textwrap.dedent(inspect.getsource(target)).rstrip("\n")


def side_by_side(sync_source: str, async_source: str) -> list[CodeRow]:
    """Pair the two sources line by line; lines difflib finds unequal are `changed`."""
    left, right = sync_source.splitlines(), async_source.splitlines()
    rows = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for sync_line, async_line in zip_longest(left[i1:i2], right[j1:j2]):
            rows.append(CodeRow(sync_line, async_line, changed=tag != "equal"))
    return rows


def _request(example: Example, sent: SentWrite | None = None) -> dict:
    body = json.dumps(example.json) if example.json is not None else example.body
    return {
        "label": example.label,
        "method": example.method,
        "path": example.path,
        "body": body,
        "contentType": example.content_type,
        "unique": sent.unique if sent else "",
        "volatile": [*example.volatile, *(sent.grows if sent else ())],
    }


def card(pair: Pair) -> Card:
    """The card of one pair: the requests its Compare sends, and its twins' code."""
    code = side_by_side(view_source(pair.sync_view), view_source(pair.async_view))
    if not is_write_route(pair):
        return Card(pair, [_request(e) for e in pair.browsable], "", code)
    sent = SENT_WRITES.get(pair.name)
    sendable = [
        example
        for example in pair.requests
        if example.method != "GET"
        and example.user is None
        and not PLACEHOLDER.search(example.path)
        and isinstance(example.json, dict)
        and sent is not None
        and sent.unique in example.json
    ]
    if not sendable:
        return Card(pair, [], WRITES_NOT_SENT, code)
    return Card(pair, [_request(sendable[0], sent)], "", code)


@api_view
def index(request: HttpRequest) -> HttpResponse:
    """List the pairs by family, and the pitfall pages while DEBUG is on."""
    pitfalls = (
        [pitfall for pitfall in PITFALLS if pitfall.demo] if settings.DEBUG else []
    )
    families = {
        family: [card(pair) for pair in pairs]
        for family, pairs in by_family(PAIRS).items()
    }
    context = {"families": families, "pitfalls": pitfalls}
    return render(request, "demo/index.html", context)
