"""Serialization: plain data in, JSON-ready dicts out, no queries."""

from typing import Any

from topics.models import Topic
from topics.params import ListParams


def page_payload(rows: list[dict[str, Any]], params: ListParams) -> dict[str, Any]:
    """One page of list rows, fetched with params.window (one row too many)."""
    return {
        "page": params.page,
        "per_page": params.per_page,
        "has_next": len(rows) > params.per_page,
        "results": rows[: params.per_page],
    }


def topic_payload(topic: Topic) -> dict[str, Any]:
    """A topic loaded by Topic.objects.for_detail(); touches no lazy relation."""
    return {
        "id": topic.id,
        "slug": topic.slug,
        "title": topic.title,
        "body": topic.body,
        "author": {"id": topic.author.id, "name": topic.author.name},
        "tags": [tag.name for tag in topic.tags.all()],
        "created": topic.created,
        "updated": topic.updated,
    }
