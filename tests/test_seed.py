"""seed_demo: deterministic, idempotent, batched."""

from io import StringIO

from django.core.management import CommandError, call_command
from django.test import TestCase

from project.demo.seeding import (
    DEMO_BOOKMARKS,
    TAG_NAMES,
    seed_bookmarks,
    seed_topics,
    topic_slug,
)
from topics.models import NEWEST_FIRST, Bookmark, Tag, Topic


class SeedTests(TestCase):
    def test_seed_creates_numbered_topics_with_tags(self):
        """topic-1 … topic-N exist, each with one to three tags and an author."""
        created = seed_topics(count=12, batch_size=5)

        self.assertEqual(created, 12)
        self.assertEqual(
            set(Topic.objects.values_list("slug", flat=True)),
            {topic_slug(n) for n in range(1, 13)},
        )
        tag_counts = [topic.tags.count() for topic in Topic.objects.all()]
        self.assertIs(all(1 <= count <= 3 for count in tag_counts), True, tag_counts)
        self.assertEqual(Tag.objects.count(), len(TAG_NAMES))

    def test_seed_twice_creates_nothing_the_second_time(self):
        """A rerun keeps what exists and only adds the missing topics."""
        seed_topics(count=7, batch_size=3)
        before = list(Topic.objects.order_by("id").values_list("id", "slug", "created"))

        created_again = seed_topics(count=7, batch_size=3)
        created_more = seed_topics(count=9, batch_size=4)

        self.assertEqual(created_again, 0)
        self.assertEqual(created_more, 2)
        after = list(Topic.objects.order_by("id").values_list("id", "slug", "created"))
        self.assertEqual(after[:7], before)
        self.assertEqual(Topic.objects.count(), 9)

    def test_seed_bookmarks_once_with_their_tags_in_the_order_given(self):
        """Each demo bookmark, its topic when that exists, its taggit tags in
        the order listed; a rerun makes nothing."""
        seed_topics(count=2)

        made = seed_bookmarks()
        made_again = seed_bookmarks()

        self.assertEqual((made, made_again), (len(DEMO_BOOKMARKS), 0))
        bookmarks = Bookmark.objects.select_related("topic").order_by("id")
        self.assertEqual(
            [
                (b.url, b.title, b.topic and b.topic.slug, list(b.tags.names()))
                for b in bookmarks
            ],
            [
                (url, title, topic_slug(n) if n in (1, 2) else None, tags)
                for url, title, n, tags in DEMO_BOOKMARKS
            ],
        )

    def test_newest_demo_topic_has_the_highest_number(self):
        """Creation times follow the numbers, so page 1 starts at topic-N."""
        seed_topics(count=4)

        newest = Topic.objects.order_by(*NEWEST_FIRST).values_list("slug", flat=True)[0]

        self.assertEqual(newest, "topic-4")

    def test_command_reports_and_respects_if_empty(self):
        """seed_demo --if-empty leaves a database that has topics alone."""
        out = StringIO()
        call_command("seed_demo", topics=3, verbosity=0, stdout=out)
        call_command("seed_demo", topics=10, if_empty=True, verbosity=0, stdout=out)

        self.assertIn("Created 3 of 3 demo topics", out.getvalue())
        self.assertIn("Topics exist already; nothing to seed.", out.getvalue())
        self.assertEqual(Topic.objects.count(), 3)

    def test_command_rejects_a_negative_count(self):
        """A negative --topics is a clear error, not a traceback."""
        with self.assertRaisesMessage(CommandError, "--topics must be >= 0"):
            call_command("seed_demo", topics=-1, verbosity=0)
