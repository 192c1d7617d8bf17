"""Serialization: plain data in, JSON-ready dicts out, no queries."""

from collections.abc import Iterable
from typing import Any

from topics.models import Bookmark, Topic
from topics.pagination import PageData
from topics.params import ListParams

Row = dict[str, Any]


def page_payload(rows: list[Row], params: ListParams) -> Row:
    """One page of list rows, fetched with params.window (one row too many)."""
    return {
        "page": params.page,
        "per_page": params.per_page,
        "has_next": len(rows) > params.per_page,
        "results": rows[: params.per_page],
    }


def search_payload(page: PageData) -> Row:
    """One Paginator page, with the totals a client needs to page through."""
    return {
        "page": page.number,
        "num_pages": page.num_pages,
        "count": page.count,
        "has_next": page.has_next,
        "results": page.rows,
    }


def topic_payload(topic: Topic) -> Row:
    """A topic loaded by Topic.objects.for_detail(); touches no lazy relation."""
    return {
        "id": topic.id,
        "slug": topic.slug,
        "title": topic.title,
        "body": topic.body,
        "author": {
            "id": topic.author.id,
            "name": topic.author.name,
            "topics_count": topic.author_topics_count,
        },
        "tags": [tag.name for tag in topic.tags.all()],
        "revision": topic.revision,
        "created": topic.created,
        "updated": topic.updated,
    }


def stats_payload(*, totals: Row, authors: int, tags: Iterable[Row]) -> Row:
    """Counts over the whole table: aggregate(), count() and annotated tags."""
    return {**totals, "authors": authors, "tags": list(tags)}


def overview_payload(
    *,
    topic: Row,
    tags: list[str],
    same_author: list[Row],
    related: list[Row],
    author_topics: int,
) -> Row:
    """A topic with its neighbourhood: five queries' worth of rows."""
    return {
        "topic": topic,
        "tags": tags,
        "author_topics_count": author_topics,
        "same_author": same_author,
        "related": related,
    }


def tagged_topic_row(topic: Topic) -> Row:
    """A topic from Topic.objects.tag_listing(); its tags in the prefetch's order."""
    return {
        "slug": topic.slug,
        "title": topic.title,
        "tags": [tag.name for tag in topic.tags.all()],
    }


def bookmark_row(bookmark: Bookmark) -> Row:
    """A bookmark from Bookmark.objects.listing(); its tags sorted by name here."""
    return {
        "url": bookmark.url,
        "title": bookmark.title,
        "topic": bookmark.topic.slug if bookmark.topic else None,
        # taggit's prefetch has no ORDER BY, and its manager refuses an ordered
        # Prefetch(queryset=...): the order is set here, the same everywhere.
        "tags": sorted(tag.name for tag in bookmark.tags.all()),
    }
