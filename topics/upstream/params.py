"""Query parameters of the upstream pairs, validated once for every twin.

The delay and failure knobs are passed on to the fake upstream, so that a
reader can watch each pattern under latency and failure; a real view would
have only the source names.
"""

import atexit
import socket
from dataclasses import dataclass
from typing import Self

from django.http import QueryDict

from topics.api import InvalidParameter, choice_param, int_param
from topics.upstream.client import SOURCES, source_url

DELAY_MAX = 5000  # ms
# Failures a source can be asked to show, as the fake upstream's parameters.
SLOW_MS = 2000
HUGE_BYTES = 4_000_000
FAILURES = {
    "500": {"status": 500},
    "reset": {"fail": "reset"},
    "close": {"fail": "close"},
    "badjson": {"fail": "badjson"},
    "redirect": {"fail": "redirect"},
    "slow": {"delay": SLOW_MS},
    # Over UPSTREAM_MAX_BYTES' default: with a Content-Length, then chunked.
    "huge": {"size": HUGE_BYTES},
    "huge_chunked": {"size": HUGE_BYTES, "chunked": 1},
}


def sources_param(query: QueryDict, name: str = "sources") -> tuple[str, ...]:
    """Comma-separated source names, each known and named once; all by default."""
    raw = query.get(name)
    if raw is None:
        return SOURCES
    names = tuple(raw.split(","))
    if not set(names) <= set(SOURCES) or len(set(names)) != len(names):
        raise InvalidParameter(
            name, f"must be distinct names among: {', '.join(SOURCES)}."
        )
    return names


def failures_param(query: QueryDict, sources: tuple[str, ...]) -> dict[str, str]:
    """?broken=orders:500,profile:reset — which source fails, and how."""
    raw = query.get("broken")
    if not raw:
        return {}
    failures = dict(item.partition(":")[::2] for item in raw.split(","))
    if not set(failures) <= set(sources) or not set(failures.values()) <= set(FAILURES):
        raise InvalidParameter(
            "broken",
            f"must be source:failure pairs; failures: {', '.join(FAILURES)}.",
        )
    return failures


def delay_param(query: QueryDict, name: str = "delay", default: int = 100) -> int:
    return int_param(query, name, default=default, low=0, high=DELAY_MAX)


@dataclass(frozen=True, kw_only=True)
class FanoutParams:
    sources: tuple[str, ...]
    delay: int
    failures: dict[str, str]

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        """?sources=&delay=&broken=."""
        sources = sources_param(query)
        return cls(
            sources=sources,
            delay=delay_param(query),
            failures=failures_param(query, sources),
        )

    def knobs(self, source: str, *, stagger: int = 0) -> dict[str, int | str]:
        """The fake upstream's parameters for one source."""
        delay = self.delay + stagger * (self.sources.index(source) + 1)
        return {"delay": delay, **FAILURES.get(self.failures.get(source, ""), {})}


@dataclass(frozen=True, kw_only=True)
class BudgetParams(FanoutParams):
    budget: int  # ms

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        """?sources=&delay=&broken=&budget=."""
        fanout = FanoutParams.from_query(query)
        budget = int_param(query, "budget", default=300, low=1, high=10_000)
        return cls(**vars(fanout), budget=budget)


@dataclass(frozen=True, kw_only=True)
class StreamParams(FanoutParams):
    stagger: int  # ms between one source's answer and the next's

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        """?sources=&delay=&broken=&stagger=."""
        fanout = FanoutParams.from_query(query)
        stagger = int_param(query, "stagger", default=100, low=0, high=DELAY_MAX)
        return cls(**vars(fanout), stagger=stagger)


@dataclass(frozen=True, kw_only=True)
class BoundedParams:
    count: int
    limit: int
    delay: int

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        """?n= items, at most ?limit= in flight, each ?delay= ms."""
        return cls(
            count=int_param(query, "n", default=12, low=1, high=100),
            limit=int_param(query, "limit", default=4, low=1, high=50),
            delay=delay_param(query, default=50),
        )


@dataclass(frozen=True, kw_only=True)
class HedgeParams:
    primary_delay: int
    backup_delay: int
    hedge_after: int  # ms to wait for the primary before asking the backup

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        """?primary_delay=&backup_delay=&hedge_after=."""
        return cls(
            primary_delay=delay_param(query, "primary_delay", default=300),
            backup_delay=delay_param(query, "backup_delay", default=20),
            hedge_after=delay_param(query, "hedge_after", default=50),
        )


@dataclass(frozen=True, kw_only=True)
class CachedParams:
    source: str
    delay: int

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        """?source=&delay=."""
        source = choice_param(query, "source", choices=SOURCES, default=SOURCES[0])
        return cls(source=source, delay=delay_param(query, default=200))


@dataclass(frozen=True, kw_only=True)
class RetryParams:
    fail_times: int
    method: str

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        """?fail_times= failures before the upstream answers; ?method=GET|POST."""
        return cls(
            fail_times=int_param(query, "fail_times", default=2, low=0, high=5),
            method=choice_param(
                query, "method", choices=("GET", "POST"), default="GET"
            ),
        )


# What ?fail= asks of the upstream in the errors pair, as the fake's parameters;
# "connect" is a port nothing listens on instead (refused_url()).
CALL_FAILURES = {
    "connect": {},
    "timeout": {"delay": SLOW_MS},
    "status": {"status": 503},
    "badjson": {"fail": "badjson"},
    "html": {"fail": "html"},
}
_refusing: socket.socket | None = None


def refused_url() -> str:
    """A URL on a loopback port this process holds bound but never listens on:
    every connection to it is refused, and no other process can take the port."""
    global _refusing
    if _refusing is None:
        _refusing = socket.socket()
        _refusing.bind(("127.0.0.1", 0))
        atexit.register(_refusing.close)
    return f"http://127.0.0.1:{_refusing.getsockname()[1]}/sources/profile"


@dataclass(frozen=True, kw_only=True)
class CallParams:
    url: str
    knobs: dict[str, int | str]

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        """?fail=connect|timeout|status|badjson|html; none: the call succeeds."""
        fail = choice_param(query, "fail", choices=CALL_FAILURES, default=None)
        url = refused_url() if fail == "connect" else source_url("profile")
        return cls(url=url, knobs=CALL_FAILURES.get(fail, {}))
