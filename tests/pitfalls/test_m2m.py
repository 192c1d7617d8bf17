"""Many-to-many: taggit refuses an ordered Prefetch, its own prefetch sets no
order, and the right twin sorts each row's tags; the same on every database."""

from unittest import mock

from django.test import TestCase

from project.demo.seeding import DEMO_BOOKMARKS, seed_bookmarks
from tests.queries import asql_of, sql_of
from topics.models import Bookmark
from topics.pitfalls.m2m import (
    TAGGIT_REFUSAL,
    right_bookmark_tags,
    wrong_bookmark_tags,
)

# Each demo bookmark's tags in the order they were added: not alphabetical.
ADDED = [tags for _url, _title, _topic, tags in DEMO_BOOKMARKS]
BY_NAME = [sorted(tags) for tags in ADDED]


def lazy_tags() -> list[list[str]]:
    """The sync code before the migration: each row's tags read lazily."""
    return [
        [tag.name for tag in bookmark.tags.all()]
        for bookmark in Bookmark.objects.order_by("id")
    ]


class TaggitPrefetchTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_bookmarks()

    async def test_an_ordered_prefetch_is_refused(self):
        """The wrong snippet raises taggit's ValueError; the right one gives each
        bookmark's tags by name, in two queries however many bookmarks there are."""
        with self.assertRaises(ValueError) as raised:
            await wrong_bookmark_tags()
        rows: list[list[str]] = []

        async def right() -> None:
            rows.extend(await right_bookmark_tags())

        queries = await asql_of(right)

        self.assertEqual(str(raised.exception), TAGGIT_REFUSAL)
        self.assertEqual(rows, BY_NAME)
        self.assertEqual(len(queries), 2)

    def test_the_lazy_read_orders_by_tagging_and_the_prefetch_not_at_all(self):
        """Row by row, tags.all() orders by the through row's id (the order the
        tags were added, which is not by name); the prefetch has no ORDER BY."""
        bookmarks = Bookmark.objects.prefetch_related("tags").order_by("id")

        lazy = sql_of(lazy_tags)
        prefetch = sql_of(lambda: list(bookmarks))

        self.assertEqual(lazy_tags(), ADDED)
        self.assertNotEqual(ADDED, BY_NAME)
        self.assertEqual(len(lazy), 1 + len(DEMO_BOOKMARKS))
        for query in lazy[1:]:
            self.assertRegex(query, r'ORDER BY "taggit_taggeditem"\."id" ASC$')
        self.assertEqual(len(prefetch), 2)
        self.assertIn('FROM "taggit_tag"', prefetch[1])
        self.assertNotIn("ORDER BY", prefetch[1])

    def test_a_field_ordering_orders_taggits_prefetch(self):
        """TaggableManager(ordering=["name"]), the other fix: taggit's prefetch
        query then ends in ORDER BY name, and so do the lazy reads."""
        field = Bookmark._meta.get_field("tags")
        bookmarks = Bookmark.objects.prefetch_related("tags").order_by("id")

        with mock.patch.object(field, "ordering", ["name"]):
            prefetch = sql_of(lambda: list(bookmarks))
            prefetched = [[t.name for t in b.tags.all()] for b in bookmarks]
            lazy = lazy_tags()

        self.assertRegex(prefetch[1], r'ORDER BY "taggit_tag"\."name" ASC$')
        self.assertEqual(prefetched, BY_NAME)
        self.assertEqual(lazy, BY_NAME)
