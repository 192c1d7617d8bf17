"""ORM pitfalls: a query that runs lazily, on the event loop's thread, and its fix."""

from typing import Any

from asgiref.sync import sync_to_async
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from topics.models import Topic
from topics.pagination import AsyncPaginator
from topics.pitfalls.registry import Pitfall

# Django's words, whatever touches the database from async code.
SYNC_ONLY_MESSAGE = (
    "You cannot call this from an async context - use a thread or sync_to_async."
)
SYNC_ONLY = f"`SynchronousOnlyOperation: {SYNC_ONLY_MESSAGE}`"
NO_TOPICS = "No topics yet: run `python manage.py seed_demo`, then reload this page."
TEMPLATE = "pitfalls/orm_topics.html"
PER_PAGE = 10


def _text(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


# 1. The sync ORM API inside async def.


async def wrong_sync_orm_call() -> list[str]:
    """Iterates a QuerySet, the sync way, inside async def."""
    return [topic.title for topic in Topic.objects.order_by("title")]


async def right_sync_orm_call() -> list[str]:
    """See wrong_sync_orm_call(); `async for` runs the query off the loop."""
    return [topic.title async for topic in Topic.objects.order_by("title")]


async def demo_sync_orm_call(request: HttpRequest) -> HttpResponse:
    """Runs wrong_sync_orm_call(): it raises, with or without topics."""
    return _text("\n".join(await wrong_sync_orm_call()))


# 2. A lazy result handed back by sync_to_async.


async def wrong_rows_from_a_thread() -> list[dict[str, str]]:
    """Queries through sync_to_async, but gets a lazy QuerySet back."""
    topics = await sync_to_async(lambda: Topic.objects.order_by("title"))()
    # The lambda built a query and ran nothing: it runs here, on the loop.
    return [
        {"title": topic.title, "author__name": topic.author.name} for topic in topics
    ]


async def right_rows_from_a_thread() -> list[dict[str, str]]:
    """See wrong_rows_from_a_thread(); plain dicts cross back, nothing lazy."""
    return await sync_to_async(
        lambda: list(Topic.objects.order_by("title").values("title", "author__name"))
    )()


async def demo_rows_from_a_thread(request: HttpRequest) -> HttpResponse:
    """Runs wrong_rows_from_a_thread(): it raises, with or without topics."""
    return _text(str(await wrong_rows_from_a_thread()))


# 3. Lazy relations and deferred fields read in async code.


def _card(topic: Topic) -> dict[str, Any]:
    return {
        "title": topic.title,
        "author": topic.author.name,  # forward foreign key
        "author_topics": [other.slug for other in topic.author.topics.all()],  # reverse
        "tags": [tag.name for tag in topic.tags.all()],  # many-to-many
        "body": topic.body,
    }


async def wrong_topic_card(slug: str) -> dict[str, Any]:
    """Fetches the topic alone, then reads its relations and a deferred field."""
    topic = await Topic.objects.only("title", "author").aget(slug=slug)
    # Past the title, each read loads lazily: a query, on the loop.
    return _card(topic)


async def right_topic_card(slug: str) -> dict[str, Any]:
    """See wrong_topic_card(); everything the card reads is loaded by aget()."""
    topic = await (
        Topic.objects.select_related("author")
        .prefetch_related("tags", "author__topics")
        .aget(slug=slug)
    )
    return _card(topic)


async def demo_topic_card(request: HttpRequest) -> HttpResponse:
    """Runs wrong_topic_card() on the newest topic: it raises at topic.author."""
    slug = await Topic.objects.order_by("-id").values_list("slug", flat=True).afirst()
    if slug is None:
        return _text(NO_TOPICS)
    return _text(str(await wrong_topic_card(slug)))


# 13. A template that queries, rendered from an async view.


async def wrong_render_lazy(request: HttpRequest) -> HttpResponse:
    """Renders a template that iterates a QuerySet and reads request.user."""
    # render() is sync: the template's lazy values query here, on the loop.
    return render(request, TEMPLATE, {"topics": Topic.objects.order_by("title")})


async def right_render_lazy(request: HttpRequest) -> HttpResponse:
    """See wrong_render_lazy(); the template gets a list and a loaded user."""
    topics = [topic async for topic in Topic.objects.order_by("title").values("title")]
    # The view's "user" hides the lazy request.user of the auth context processor.
    return render(request, TEMPLATE, {"topics": topics, "user": await request.auser()})


async def demo_render_lazy(request: HttpRequest) -> HttpResponse:
    """Runs wrong_render_lazy(): it raises for everyone, at the QuerySet."""
    return await wrong_render_lazy(request)


# 14. request.user and request.session in an async view.


async def wrong_user_in_async_view(request: HttpRequest) -> HttpResponse:
    """Reads request.user and request.session as a sync view would."""
    # Both load the session lazily: no query without a session cookie, so a
    # visitor passes; logged in (or with session data), the query raises.
    name = request.user.get_username() or "visitor"
    theme = request.session.get("theme", "light")
    return _text(f"{name}, theme {theme}")


async def right_user_in_async_view(request: HttpRequest) -> HttpResponse:
    """See wrong_user_in_async_view(); auser() and aget() load them awaited."""
    name = (await request.auser()).get_username() or "visitor"
    theme = await request.session.aget("theme", "light")
    return _text(f"{name}, theme {theme}")


async def demo_user_in_async_view(request: HttpRequest) -> HttpResponse:
    """Runs wrong_user_in_async_view(): it raises only once you have logged in."""
    return await wrong_user_in_async_view(request)


# 15. The sync Paginator, and an AsyncPage read before it is loaded.


async def wrong_paginate(rows: QuerySet, number: int) -> list:
    """Pages with the sync Paginator inside async def."""
    # page() checks the number against count(): a query, on the loop.
    return list(Paginator(rows, PER_PAGE).page(number))


def _page_rows(rows: QuerySet, number: int) -> list:
    return list(Paginator(rows, PER_PAGE).page(number))


async def right_paginate(rows: QuerySet, number: int) -> list:
    """See wrong_paginate(); AsyncPaginator on Django >= 6.0, else one hop."""
    if AsyncPaginator is None:
        return await sync_to_async(_page_rows)(rows, number)
    page = await AsyncPaginator(rows, PER_PAGE).apage(number)
    # An AsyncPage holds no rows until loaded: len(page) or page[0] raise TypeError.
    return await page.aget_object_list()


async def demo_paginate(request: HttpRequest) -> HttpResponse:
    """Runs wrong_paginate(): it raises at count(), with or without topics."""
    return _text(str(await wrong_paginate(Topic.objects.listing(), 1)))


TEST = "tests/pitfalls/test_orm.py::"

PITFALLS: list[Pitfall] = [
    Pitfall(
        number=1,
        slug="sync-orm-call-in-async-code",
        title="A sync ORM call inside `async def`",
        symptom=SYNC_ONLY,
        fix=(
            "Use `async for` and the `a*` methods (`aget`, `acount`, `asave`, "
            "`aexists`), or put the unit of work in one `sync_to_async` call."
        ),
        wrong=wrong_sync_orm_call,
        right=right_sync_orm_call,
        test=TEST + "QueryInAsyncCodeTests::test_sync_orm_calls_fail_in_async_code",
        demo=demo_sync_orm_call,
    ),
    Pitfall(
        number=2,
        slug="lazy-result-from-sync-to-async",
        title="A lazy QuerySet or instance returned from `sync_to_async`",
        symptom=f"{SYNC_ONLY}, later, where the result is iterated or a relation read",
        fix=(
            "Return plain data from the sync function: `list(qs.values(...))`, "
            "or instances with every relation loaded."
        ),
        wrong=wrong_rows_from_a_thread,
        right=right_rows_from_a_thread,
        test=TEST
        + "QueryInAsyncCodeTests::test_lazy_results_of_sync_to_async_fail_later",
        demo=demo_rows_from_a_thread,
    ),
    Pitfall(
        number=3,
        slug="lazy-relation-in-async-code",
        title="A lazy relation or deferred field read in async code",
        symptom=(
            f"{SYNC_ONLY} at `topic.author`, when iterating `author.topics.all()` "
            "or `topic.tags.all()`, or at a field deferred by `only()`/`defer()`"
        ),
        fix=(
            "Load what you read: `select_related()`, `prefetch_related()`, "
            "`values()`, and no `only()`/`defer()` of a field you read."
        ),
        wrong=wrong_topic_card,
        right=right_topic_card,
        test=TEST
        + "QueryInAsyncCodeTests::test_lazy_relations_and_deferred_fields_fail",
        demo=demo_topic_card,
        versions=(
            "Same error on 5.2 and 6.1. On 6.1, `fetch_mode(FETCH_RAISE)` makes "
            "a lazy relation or deferred field raise `FieldFetchBlocked: Fetching "
            "of Topic.author blocked.` before any query, in sync code too; "
            "`.all()` on a related manager is not blocked. `FETCH_PEERS` does "
            "not make a lazy read safe in async code (it still queries: the same "
            "error); inside one `sync_to_async` unit it loads the relation for "
            "every instance fetched with it in one query."
        ),
    ),
    Pitfall(
        number=13,
        slug="template-queries-in-async-view",
        title="A template that iterates a QuerySet or reads `request.user`, "
        "rendered from an async view",
        symptom=(
            f"{SYNC_ONLY} from `{{% for %}}` over the QuerySet, or from "
            "`{{ user }}` once logged in"
        ),
        fix=(
            "Render a list (`async for`, `values()`), with `await request.auser()` "
            "as `user` in the context."
        ),
        wrong=wrong_render_lazy,
        right=right_render_lazy,
        test=TEST
        + "RequestInAsyncViewTests::test_template_lazy_values_fail_in_async_view",
        demo=demo_render_lazy,
    ),
    Pitfall(
        number=14,
        slug="request-user-in-async-view",
        title="`request.user` or `request.session` in an async view",
        symptom=(
            f"{SYNC_ONLY}, only when the request has a session cookie (logged in, "
            "or session data); a visitor without one passes"
        ),
        fix=(
            "`await request.auser()`, `await request.session.aget(...)` and "
            "`aset(...)` (Django >= 5.1)."
        ),
        wrong=wrong_user_in_async_view,
        right=right_user_in_async_view,
        test=TEST
        + "RequestInAsyncViewTests::test_user_and_session_fail_with_a_session_cookie",
        demo=demo_user_in_async_view,
    ),
    Pitfall(
        number=15,
        slug="sync-paginator-in-async-code",
        title="The sync `Paginator` in async code, or an `AsyncPage` not loaded",
        symptom=(
            f"{SYNC_ONLY} at `page()`; `TypeError: AsyncPage.aget_object_list() "
            "must be awaited before calling len().`"
        ),
        fix=(
            "`AsyncPaginator` and `await page.aget_object_list()` (Django >= 6.0); "
            "on 5.2, page in one `sync_to_async` call."
        ),
        wrong=wrong_paginate,
        right=right_paginate,
        test=TEST + "QueryInAsyncCodeTests::test_sync_paginator_fails_in_async_code",
        demo=demo_paginate,
        versions=(
            "5.2 has no `AsyncPaginator`: the right twin pages in one "
            "`sync_to_async` call there; the `AsyncPage` half of the test runs "
            "where `AsyncPaginator` exists (Django >= 6.0)."
        ),
    ),
]
