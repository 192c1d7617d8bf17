"""Reads spanning several queries: each query built once, run sync or async."""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from topics.models import LIST_FIELDS, Tag, Topic
from topics.payloads import overview_payload

NEIGHBOURS = 5


def overview_topic(slug: str) -> QuerySet:
    return Topic.objects.filter(slug=slug).values(*LIST_FIELDS, "author_id")


def overview_tags(topic: dict[str, Any]) -> QuerySet:
    return (
        Tag.objects.filter(topics=topic["id"])
        .order_by("name")
        .values_list("name", flat=True)
    )


def overview_same_author(topic: dict[str, Any]) -> QuerySet:
    return Topic.objects.listing(author_id=topic["author_id"]).exclude(pk=topic["id"])[
        :NEIGHBOURS
    ]


def overview_related(topic: dict[str, Any], tags: list[str]) -> QuerySet:
    """The newest other topics sharing a tag."""
    # A topic can match on several tags: distinct() keeps one row each.
    return (
        Topic.objects.listing()
        .filter(tags__name__in=tags)
        .exclude(pk=topic["id"])
        .distinct()[:NEIGHBOURS]
    )


def overview_author_topics(topic: dict[str, Any]) -> QuerySet:
    return Topic.objects.filter(author_id=topic["author_id"])


def topic_overview(*, slug: str) -> dict[str, Any]:
    """Five queries as one sync unit of work: one thread hop from async code."""
    topic = get_object_or_404(overview_topic(slug))
    tags = list(overview_tags(topic))
    return overview_payload(
        topic=topic,
        tags=tags,
        same_author=list(overview_same_author(topic)),
        related=list(overview_related(topic, tags)),
        author_topics=overview_author_topics(topic).count(),
    )
