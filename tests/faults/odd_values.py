"""Odd values for the bad-input tests: path segments, query strings, text, JSON
documents from almost valid to hostile, raw bodies, content types and
idempotency keys."""

import json
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from django.conf import settings
from hypothesis import strategies as st

from topics.pairs import NEW_TOPIC, PAIRS
from topics.registry import Pair

PK = "{pk}"  # stands for the id of an existing topic, known once it is seeded
# A valid value for each kind of path parameter: a slug, an id, an export.
VALID_SEGMENTS = ["topic-1", PK, "demo.csv"]


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


# Values each field of a write's example is given in turn, by the corpus test.
ODD_FIELD_VALUES = ["\ud800", ["\ud800"], "a\x00b", 2**64, {"nested": "object"}]
