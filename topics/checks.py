"""System checks that keep the pair registry honest: every twin is real."""

import inspect
from collections import Counter
from collections.abc import Iterable
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction
from django.core.checks import Error, register
from django.urls import Resolver404, resolve

from topics.pairs import PAIRS
from topics.registry import Pair, Twin, view_function


def _qualname(view: object) -> str:
    function = view_function(view)
    return f"{function.__module__}.{function.__qualname__}"


def _mode_error(pair: Pair, twin: Twin) -> Error | None:
    # asgiref's check is the one Django dispatches on; view_function() also sees
    # through sync_to_async(f) and async_to_sync(f), which would fake a twin.
    marked_async = iscoroutinefunction(twin.view)
    body_async = inspect.iscoroutinefunction(view_function(twin.view))
    where = f"Pair {pair.name!r}: the {twin.mode} view {_qualname(twin.view)}"
    if twin.mode == "async" and not marked_async:
        return Error(
            f"{where} is not a coroutine function.",
            hint="Write the async twin with `async def`.",
            id="topics.E001",
        )
    if twin.mode == "async" and not body_async:
        return Error(
            f"{where} wraps a sync function.",
            hint="Write the async twin with `async def`; never wrap its sync twin "
            "in sync_to_async().",
            id="topics.E002",
        )
    if twin.mode == "sync" and (marked_async or body_async):
        return Error(
            f"{where} is a coroutine function.",
            hint="The sync twin is a plain `def`; never wrap the async twin in "
            "async_to_sync().",
            id="topics.E003",
        )
    return None


def _example_errors(pair: Pair, twin: Twin) -> list[Error]:
    errors = []
    for example in pair.requests:
        url = f"/{twin.prefix}/{example.path}"
        try:
            match = resolve(urlsplit(url).path)
        except Resolver404:
            match = None
        if match is None or match.func is not twin.view:
            errors.append(
                Error(
                    f"Pair {pair.name!r}: the example {url} is not served by "
                    f"{_qualname(twin.view)}.",
                    id="topics.E005",
                )
            )
    return errors


@register()
def check_pairs(app_configs=None, pairs: Iterable[Pair] | None = None, **kwargs):
    """Each twin has its declared mode, names are unique, every example resolves."""
    pairs = list(PAIRS if pairs is None else pairs)
    errors = [
        Error(f"Pair name {name!r} is registered {count} times.", id="topics.E004")
        for name, count in Counter(pair.name for pair in pairs).items()
        if count > 1
    ]
    for pair in pairs:
        if not pair.examples:
            errors.append(
                Error(f"Pair {pair.name!r} has no example.", id="topics.E006")
            )
        for twin in pair.twins():
            if error := _mode_error(pair, twin):
                errors.append(error)
            errors += _example_errors(pair, twin)
    return errors
