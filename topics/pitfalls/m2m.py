"""Many-to-many pitfalls: a lazy per-row read turned into a prefetch, and its order."""

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from taggit.models import Tag as TaggitTag

from topics.models import Bookmark
from topics.pitfalls.registry import Pitfall

# django-taggit's words (taggit/managers.py), for any Prefetch(queryset=...).
TAGGIT_REFUSAL = "Custom querysets can't be used for this lookup."
NO_BOOKMARKS = "No bookmarks yet: run `python manage.py seed_demo`, then reload."


# 32. Ordering taggit's tags with Prefetch("tags", queryset=...).


async def wrong_bookmark_tags() -> list[list[str]]:
    """Prefetches taggit tags in name order, as for a ManyToManyField."""
    bookmarks = Bookmark.objects.prefetch_related(
        Prefetch("tags", queryset=TaggitTag.objects.order_by("name"))
    ).order_by("id")
    return [[tag.name for tag in b.tags.all()] async for b in bookmarks]


async def right_bookmark_tags() -> list[list[str]]:
    """See wrong_bookmark_tags(); taggit's own prefetch, each row sorted here."""
    bookmarks = Bookmark.objects.prefetch_related("tags").order_by("id")
    return [sorted(tag.name for tag in b.tags.all()) async for b in bookmarks]


async def demo_bookmark_tags(request: HttpRequest) -> HttpResponse:
    """Runs wrong_bookmark_tags(): it raises once a bookmark exists."""
    tags = await wrong_bookmark_tags()
    body = "\n".join(", ".join(names) for names in tags) if tags else NO_BOOKMARKS
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


TEST = "tests/pitfalls/test_m2m.py::"

PITFALLS = [
    Pitfall(
        number=32,
        slug="taggit-prefetch-with-queryset",
        title='Ordering taggit\'s tags with `Prefetch("tags", queryset=...)`',
        symptom=(
            f"`ValueError: {TAGGIT_REFUSAL}`; without it, "
            '`prefetch_related("tags")` sends no ORDER BY: each row\'s tags come '
            "in the database's order, not in the order the sync code's lazy "
            "`tags.all()` read them, row by row (the order they were added)"
        ),
        fix=(
            'Prefetch with `prefetch_related("tags")` and `sorted()` each row\'s '
            'tags, or declare `TaggableManager(ordering=["name"])`, which taggit\'s '
            "prefetch orders by too."
        ),
        wrong=wrong_bookmark_tags,
        right=right_bookmark_tags,
        test=TEST + "TaggitPrefetchTests::test_an_ordered_prefetch_is_refused",
        demo=demo_bookmark_tags,
        versions="The same on 5.2 and 6.1, with django-taggit 6.1.0.",
    ),
]
