"""Writes with rules: small keyword-only sync functions, one unit of work each.

Async views call each through one sync_to_async: form validation queries the
database, and transaction.atomic() has no async form.
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404

from topics.api import Conflict, ValidationFailed
from topics.forms import TopicForm, TopicUpdateForm
from topics.models import Topic
from topics.payloads import topic_payload

SLUG_TAKEN = "Topic with this Slug already exists."


def topic_create(*, data: dict[str, Any]) -> dict[str, Any]:
    """Validate and create a topic; return its detail payload."""
    form = TopicForm(data)
    # is_valid() queries: the author and the tags must exist, the slug be free.
    if not form.is_valid():
        raise ValidationFailed(form.errors)
    try:
        with transaction.atomic():
            topic = form.save()
    except IntegrityError:
        # Another request took the slug between the check and the insert.
        raise ValidationFailed({"slug": [SLUG_TAKEN]}) from None
    return topic_payload(Topic.objects.for_detail().get(pk=topic.pk))


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
