"""Capture the SQL a request runs and the thread hops it takes, for both twins,
and find the query cursors left open."""

import gc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import GeneratorType
from typing import Any
from unittest import mock

from asgiref.sync import SyncToAsync, sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext


def sql_of(call: Callable[[], Any]) -> list[str]:
    """The SQL statements that call() runs."""
    with CaptureQueriesContext(connection) as captured:
        call()
    return [query["sql"] for query in captured.captured_queries]


async def asql_of(call: Callable[[], Awaitable[Any]]) -> list[str]:
    """See sql_of(); also captures what sync_to_async runs in its thread."""
    captured = CaptureQueriesContext(connection)
    # The views' queries run on sync_to_async's thread, whose connection is not
    # the loop thread's: enter, exit and read the capture on that thread.
    await sync_to_async(captured.__enter__)()
    try:
        await call()
    finally:
        await sync_to_async(captured.__exit__)(None, None, None)
    return await sync_to_async(lambda: [q["sql"] for q in captured.captured_queries])()


@contextmanager
def hops_counted() -> Iterator[list[Callable]]:
    """Record every sync_to_async call: each is one hop to a worker thread."""
    hops: list[Callable] = []
    call = SyncToAsync.__call__

    async def counting(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
        hops.append(self.func)
        return await call(self, *args, **kwargs)

    with mock.patch.object(SyncToAsync, "__call__", counting):
        yield hops


@contextmanager
def garbage_kept() -> Iterator[None]:
    """Keep the garbage collector from closing what the code leaves behind."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def open_cursors() -> list[GeneratorType]:
    """Django's row generators still open: their cursors are not closed yet."""
    return [
        found
        for found in gc.get_objects()
        # type(), not isinstance(): a lazy object would set itself up.
        if type(found) is GeneratorType
        and found.__name__ == "cursor_iter"
        and found.gi_frame is not None
    ]
