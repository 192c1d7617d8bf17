"""Pitfalls of sync code that async code calls: a middleware's helper that reads
request.user, a helper that bridges with async_to_sync, form validation, and a
signal's receivers."""

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.dispatch import Signal, receiver
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

from topics.forms import TopicForm
from topics.models import Topic
from topics.pitfalls.aio import text_page
from topics.pitfalls.orm import NO_TOPICS, SYNC_ONLY
from topics.pitfalls.registry import Pitfall

ASYNC_TO_SYNC_IN_LOOP = (
    "You cannot use AsyncToSync in the same thread as an async event loop - "
    "just await the async function directly."
)


# 25. A sync helper of an async-capable middleware reads request.user.


def _actor(user: AbstractBaseUser | AnonymousUser) -> str:
    return f"user:{user.pk}" if user.is_authenticated else "anonymous"


def actor(request: HttpRequest) -> str:
    """Who sent the request: "user:<pk>" or "anonymous"."""
    return _actor(request.user)


async def aactor(request: HttpRequest) -> str:
    """See actor()."""
    return _actor(await request.auser())


@sync_and_async_middleware
def wrong_actor_middleware(get_response: Callable) -> Callable:
    """Set request.actor for the view and its logs, in either mode."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            # Sync code on the loop: with a session cookie, request.user queries.
            request.actor = actor(request)
            return await get_response(request)

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            request.actor = actor(request)
            return get_response(request)

    return middleware


@sync_and_async_middleware
def right_actor_middleware(get_response: Callable) -> Callable:
    """See wrong_actor_middleware(); the async branch awaits the async twin."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            request.actor = await aactor(request)
            return await get_response(request)

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            request.actor = actor(request)
            return get_response(request)

    return middleware


async def _show_actor(request: HttpRequest) -> HttpResponse:
    return text_page(request.actor)


async def demo_middleware_helper(request: HttpRequest) -> HttpResponse:
    """Runs this request through wrong_actor_middleware: it raises once logged in."""
    return await wrong_actor_middleware(_show_actor)(request)


# 26. A sync helper that bridges with async_to_sync, called from async code.


async def publish(outbox: list[str], message: str) -> None:
    """Stands for an async client's send: a channel layer's group_send, a webhook."""
    await asyncio.sleep(0)
    outbox.append(message)


def notify(outbox: list[str], *, slug: str) -> None:
    """Tell subscribers that a topic changed, from sync code."""
    async_to_sync(publish)(outbox, f"{slug} changed")


async def anotify(outbox: list[str], *, slug: str) -> None:
    """See notify()."""
    await publish(outbox, f"{slug} changed")


async def wrong_topic_changed(outbox: list[str], *, slug: str) -> None:
    """Async code calls the sync helper: its async_to_sync() raises."""
    notify(outbox, slug=slug)


async def right_topic_changed(outbox: list[str], *, slug: str) -> None:
    """See wrong_topic_changed(); the helper's async twin is awaited."""
    await anotify(outbox, slug=slug)


async def demo_bridge_in_helper(request: HttpRequest) -> HttpResponse:
    """Runs wrong_topic_changed(): asgiref raises inside notify()."""
    outbox: list[str] = []
    await wrong_topic_changed(outbox, slug="any-topic")
    return text_page("\n".join(outbox))


# 27. Form validation that queries, in async code.


async def wrong_create_topic(data: Mapping[str, Any]) -> TopicForm:
    """Validates and saves a TopicForm as a sync view would; returns the form."""
    form = TopicForm(data)
    # is_valid() looks the author and the tags up and checks that the slug is free.
    if form.is_valid():
        form.save()
    return form


def _save_if_valid(form: TopicForm) -> None:
    if form.is_valid():
        form.save()


async def right_create_topic(data: Mapping[str, Any]) -> TopicForm:
    """See wrong_create_topic(); validation and saving take one thread hop."""
    form = TopicForm(data)
    # No async form API: the queries of is_valid() and save() take one hop.
    await sync_to_async(_save_if_valid)(form)
    return form


# 34. A ModelForm bound to an instance in async code: its many-to-many values.


async def wrong_edit_topic(slug: str, data: Mapping[str, Any]) -> TopicForm:
    """Validates in one hop, as pitfall 27 says, but binds the form on the loop."""
    topic = await Topic.objects.aget(slug=slug)
    # The form's initial data lists topic.tags: a query, at TopicForm(...).
    form = TopicForm(data, instance=topic)
    await sync_to_async(_save_if_valid)(form)
    return form


def _edit_topic(slug: str, data: Mapping[str, Any]) -> TopicForm:
    form = TopicForm(data, instance=Topic.objects.get(slug=slug))
    _save_if_valid(form)
    return form


async def right_edit_topic(slug: str, data: Mapping[str, Any]) -> TopicForm:
    """See wrong_edit_topic(); load, bind, validate and save: one thread hop."""
    return await sync_to_async(_edit_topic)(slug, data)


async def demo_form_validation(request: HttpRequest) -> HttpResponse:
    """Runs wrong_create_topic() on a filled-in form: is_valid() raises."""
    data = {"title": "Demo", "slug": "demo", "body": "Demo.", "author": "Ada Lovelace"}
    form = await wrong_create_topic(data)
    return text_page(f"created: {form.instance.pk}, errors: {form.errors.as_text()}")


# 30. Signal.send() from async code, with a receiver that queries.

topic_published = Signal()  # sent with topic=<Topic>


@receiver(topic_published)
def count_author_topics(sender: type[Topic], *, topic: Topic, **kwargs: Any) -> int:
    """A sync receiver that queries: the author's topic count."""
    return Topic.objects.filter(author_id=topic.author_id).count()


async def wrong_publish(topic: Topic) -> list[tuple[Callable, Any]]:
    """send() calls the sync receivers here, on the loop."""
    return topic_published.send(sender=Topic, topic=topic)


async def right_publish(topic: Topic) -> list[tuple[Callable, Any]]:
    """See wrong_publish(); asend() runs the sync receivers in a thread."""
    return await topic_published.asend(sender=Topic, topic=topic)


async def demo_signal_send(request: HttpRequest) -> HttpResponse:
    """Runs wrong_publish() on the newest topic: its receiver raises."""
    topic = await Topic.objects.order_by("-id").afirst()
    if topic is None:
        return text_page(NO_TOPICS)
    return text_page(str(await wrong_publish(topic)))


TEST = "tests/pitfalls/test_helpers.py::"

PITFALLS: list[Pitfall] = [
    Pitfall(
        number=25,
        slug="request-user-in-middleware-helper",
        title="A sync helper of an async-capable middleware reads `request.user`",
        symptom=(
            f"{SYNC_ONLY} from the helper, in the middleware's async branch, only "
            "for a request with a session cookie (logged in); a visitor without "
            "one passes"
        ),
        fix=(
            "In the async branch, await an async twin of the helper that reads "
            "`await request.auser()`; keep the sync helper for the sync branch."
        ),
        wrong=wrong_actor_middleware,
        right=right_actor_middleware,
        test=TEST + "MiddlewareHelperTests::test_a_sync_helper_reads_request_user",
        demo=demo_middleware_helper,
    ),
    Pitfall(
        number=26,
        slug="async-to-sync-in-a-helper",
        title="A sync helper that calls `async_to_sync`, called from async code",
        symptom=(
            f"`RuntimeError: {ASYNC_TO_SYNC_IN_LOOP}`, raised inside the helper; "
            "nothing is sent"
        ),
        fix=(
            "Give the helper an async twin and `await` it; call the sync one from "
            "sync code only (a sync view, or inside one `sync_to_async` unit of work)."
        ),
        wrong=wrong_topic_changed,
        right=right_topic_changed,
        test=TEST + "BridgeInHelperTests::test_the_helper_raises_in_async_code",
        demo=demo_bridge_in_helper,
    ),
    Pitfall(
        number=27,
        slug="form-validation-in-async-code",
        title="`form.is_valid()` in async code, on a form whose validation queries",
        symptom=(
            f"{SYNC_ONLY} at `is_valid()` once the data is filled in (a "
            "`ModelChoiceField` looks its value up, a unique field is checked); "
            "empty data is refused without a query, so that case passes"
        ),
        fix=(
            "Validate and save in one sync function, called through one "
            "`sync_to_async` (as `topics.services.topic_create` does)."
        ),
        wrong=wrong_create_topic,
        right=right_create_topic,
        test=TEST + "FormValidationTests::test_validation_queries_once_filled_in",
        demo=demo_form_validation,
    ),
    Pitfall(
        number=34,
        slug="model-form-instance-in-async-code",
        title="A `ModelForm(instance=…)` with many-to-many fields, built in async code",
        symptom=(
            f"{SYNC_ONLY} at `TopicForm(data, instance=topic)`, before `is_valid()`: "
            "the form's initial data lists the instance's many-to-many values "
            "(`model_to_dict()`), a query; django-taggit's field queries the same way"
        ),
        fix=(
            "Load the instance, bind the form, validate and save in one sync "
            "function behind one `sync_to_async`, as an update view's unit of work."
        ),
        wrong=wrong_edit_topic,
        right=right_edit_topic,
        test=TEST + "FormInstanceTests::test_binding_an_instance_lists_its_tags",
    ),
    Pitfall(
        number=30,
        slug="signal-send-in-async-code",
        title="`Signal.send()` in async code, with a receiver that queries",
        symptom=(
            f"{SYNC_ONLY} from inside the receiver: `send()` runs sync receivers "
            "on the loop; with an async receiver connected, "
            f"`RuntimeError: {ASYNC_TO_SYNC_IN_LOOP}`"
        ),
        fix="`await signal.asend(...)` (Django >= 5.0): the sync receivers run in a "
        "thread.",
        wrong=wrong_publish,
        right=right_publish,
        test=TEST + "SignalTests::test_send_runs_the_receiver_on_the_loop",
        demo=demo_signal_send,
        versions=(
            "Both run every sync receiver in one `sync_to_async` call, one after "
            "another. On 5.2 that call overlaps the async receivers "
            "(`asyncio.gather`); on 6.1 they start once it has returned (in a "
            "`TaskGroup`)."
        ),
    ),
]
