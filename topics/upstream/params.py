"""The upstream pairs' edge: which sources exist and where (from settings, read
here only), and the query parameters of the views, validated once for both twins.

How the fake upstream behaves (delays, failures) is not a view's business: the
demo sets it beside the views (project/demo/scenario.py).
"""

import threading
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Self

from django.conf import settings
from django.http import QueryDict

from topics.api import InvalidParameter, choice_param, int_param
from topics.upstream.client import ContextThreadPool, http_session, requests_session

# The sources a client may name; their URLs are built here, from settings.
SOURCES = ("profile", "orders", "recommendations")
REPLICAS = (1, 2)

_executor: ContextThreadPool | None = None
_executor_lock = threading.Lock()


def executor() -> ContextThreadPool:
    """The thread-pool variants' workers (UPSTREAM_THREADS), shared by every
    request of the process; made at the first call, not at import, so that
    importing this module reads no setting."""
    global _executor
    # Two threads' first calls at once would each make a pool: one would leak.
    with _executor_lock:
        if _executor is None:
            # Its requests pool as large, so that no thread waits for a connection.
            requests_session(pool_size=settings.UPSTREAM_THREADS)
            _executor = ContextThreadPool(
                max_workers=settings.UPSTREAM_THREADS, thread_name_prefix="upstream"
            )
    return _executor


def upstream_session() -> AbstractAsyncContextManager:
    """ASGI lifespan context: http_session(), sized by UPSTREAM_CONNECTIONS."""
    return http_session(connections=settings.UPSTREAM_CONNECTIONS)


def source_url(name: str, *, replica: int | None = None) -> str:
    """The URL of a named source, on the configured upstream only."""
    if name not in SOURCES:
        raise ValueError(f"Unknown source {name!r}.")
    if replica is None:
        return f"{settings.UPSTREAM_URL}/sources/{name}"
    return f"{settings.UPSTREAM_URL}/replicas/{int(replica)}/sources/{name}"


def item_url(number: int) -> str:
    """The URL of item `number` on the configured upstream."""
    return f"{settings.UPSTREAM_URL}/sources/item-{int(number)}"


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


def budget_param(query: QueryDict) -> int:
    """?budget= ms for the whole fan-out."""
    return int_param(query, "budget", default=300, low=1, high=10_000)


@dataclass(frozen=True, kw_only=True)
class BoundedParams:
    count: int
    limit: int

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        """?n= items, at most ?limit= in flight."""
        return cls(
            count=int_param(query, "n", default=12, low=1, high=100),
            limit=int_param(query, "limit", default=4, low=1, high=50),
        )


def hedge_after_param(query: QueryDict) -> int:
    """?hedge_after= ms to wait for the primary before asking the backup."""
    return int_param(query, "hedge_after", default=50, low=0, high=5000)


def source_param(query: QueryDict) -> str:
    """?source=, one of SOURCES; the first by default."""
    return choice_param(query, "source", choices=SOURCES, default=SOURCES[0])


def method_param(query: QueryDict) -> str:
    """?method=GET|POST: the upstream call's method."""
    return choice_param(query, "method", choices=("GET", "POST"), default="GET")
