"""Writes with rules: small keyword-only sync functions, one unit of work each.

Async views call each through one sync_to_async: form validation queries the
database, and transaction.atomic() has no async form.
"""

import hashlib
import json
from typing import Any, Literal, NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.shortcuts import get_object_or_404

from topics.api import Conflict, IdempotencyKeyReused, ValidationFailed
from topics.forms import MAX_TAGS, TopicForm, TopicUpdateForm
from topics.models import IdempotencyKey, Tag, Topic, tags_by_name
from topics.payloads import topic_payload

SLUG_TAKEN = "Topic with this Slug already exists."


class Created(NamedTuple):
    body: str  # the 201's JSON text, kept with the key: a replay sends it as is
    replayed: bool  # True: an earlier request with the same key created it


def _fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _answered(key: str | None, fingerprint: str) -> Created | None:
    """The stored answer to an earlier request with this key, if there was one."""
    if key is None:
        return None
    done = IdempotencyKey.objects.live().filter(key=key).first()
    if done is None:
        return None
    if done.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return Created(done.response, replayed=True)


def _create(data: dict[str, Any], key: str | None, fingerprint: str) -> Created:
    form = TopicForm(data)
    # is_valid() queries: the author and the tags must exist, the slug be free.
    if not form.is_valid():
        raise ValidationFailed(form.errors)
    try:
        # The topic and its key commit together, or neither does.
        with transaction.atomic():
            topic = form.save()
            payload = topic_payload(Topic.objects.for_detail().get(pk=topic.pk))
            body = json.dumps(payload, cls=DjangoJSONEncoder)  # as JsonResponse does
            if key is not None:
                # An expired key is free again: its old row must not block it.
                IdempotencyKey.objects.expired().filter(key=key).delete()
                IdempotencyKey.objects.create(
                    key=key, fingerprint=fingerprint, response=body
                )
    except IntegrityError:
        # Another request took the slug (or the key) between check and insert.
        raise ValidationFailed({"slug": [SLUG_TAKEN]}) from None
    return Created(body, replayed=False)


def topic_create(
    *, data: dict[str, Any], idempotency_key: str | None = None
) -> Created:
    """Validate and create a topic, once per live idempotency key; return its body.

    Raises ValidationFailed (400), or IdempotencyKeyReused (422) for a key
    younger than IDEMPOTENCY_KEY_MAX_AGE seconds sent with other data.
    """
    fingerprint = _fingerprint(data)
    if done := _answered(idempotency_key, fingerprint):
        return done
    try:
        return _create(data, idempotency_key, fingerprint)
    except ValidationFailed:
        # A retry racing its own first attempt finds the slug taken by it:
        # the answer is the first attempt's, not an error.
        if done := _answered(idempotency_key, fingerprint):
            return done
        raise


def topic_update(*, slug: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change a topic's title or body and bump its revision; return the payload."""
    with transaction.atomic():
        # The row lock makes concurrent updates wait their turn instead of
        # overwriting each other (SQLite's BEGIN IMMEDIATE does the same).
        topic = get_object_or_404(Topic.objects.select_for_update(), slug=slug)
        form = TopicUpdateForm(
            {"title": topic.title, "body": topic.body, **data}, instance=topic
        )
        if not form.is_valid():
            raise ValidationFailed(form.errors)
        expected = form.cleaned_data["revision"]
        if expected is not None and expected != topic.revision:
            raise Conflict(
                f"The topic is at revision {topic.revision}, not {expected}."
            )
        topic = form.save(commit=False)
        topic.revision += 1
        topic.save()
        # Read back under the lock: after commit, a queued update could already
        # have changed the row, and this caller would see its revision.
        return topic_payload(Topic.objects.for_detail().get(pk=topic.pk))


# A topic's tags, at most as many as TopicForm accepts: a rule checked against
# what the database holds after the write, inside its transaction.
MAX_TOPIC_TAGS = MAX_TAGS
TOO_MANY_TAGS = f"A topic carries at most {MAX_TOPIC_TAGS} tags."
TagEdit = Literal["add", "remove", "replace"]


def topic_tags_edit(*, slug: str, names: list[str], edit: TagEdit) -> list[str]:
    """Add, remove or replace a topic's tags by name; return its tag names, sorted.

    "add" and "replace" create the tags that do not exist yet; "remove" ignores
    names the topic does not carry. All or nothing, in one transaction: a topic
    that would carry more than MAX_TOPIC_TAGS raises ValidationFailed (400) and
    nothing is written, not even the new tags. Raises Http404 for an unknown slug.
    Source: Django's "Many-to-many relationships" topic (add/remove/set).
    """
    with transaction.atomic():
        # The row lock queues concurrent edits of one topic: each counts what
        # the one before it wrote.
        topic = get_object_or_404(Topic.objects.select_for_update(), slug=slug)
        if edit == "remove":
            topic.tags.remove(*Tag.objects.filter(name__in=names))
        else:
            Tag.objects.bulk_create(
                [Tag(name=name) for name in names], ignore_conflicts=True
            )
            tags = list(Tag.objects.filter(name__in=names))
            if edit == "add":
                topic.tags.add(*tags)
            else:
                topic.tags.set(tags)
        # add()/set() dropped the instance's cached tags: load them once more,
        # in name order, on the instance already fetched.
        prefetch_related_objects([topic], tags_by_name())
        loaded = [tag.name for tag in topic.tags.all()]
        if len(loaded) > MAX_TOPIC_TAGS:
            # Rolls back the new tags and the links with them.
            raise ValidationFailed({"tags": [TOO_MANY_TAGS]})
        return loaded
