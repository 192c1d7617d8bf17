"""Rows read by key, in any ordering whose last field is unique: every row once,
in order, across chunks that split rows of one instant; an ordering the reader
cannot page by is refused at the first chunk, before a stream's status line."""

from datetime import UTC, datetime

from asgiref.sync import sync_to_async
from django.db.models import F
from django.test import TestCase

from tests.factories import make_topic
from topics.exportfiles import achunks, chunks
from topics.models import Bookmark, Topic

INSTANT = datetime(2024, 1, 1, tzinfo=UTC)
LATER = datetime(2024, 1, 2, tzinfo=UTC)
# Small chunks: the seven topics span three, and a chunk ends mid-instant.
SIZE = 3


async def alist_chunks(rows) -> list[list[dict]]:
    return [batch async for batch in achunks(rows, SIZE)]


class KeysetOrderingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        # Five topics share one instant, so only the id tells them apart.
        for number in range(5):
            make_topic(slug=f"same-{number}", created=INSTANT)
        make_topic(slug="later-a", created=LATER)
        make_topic(slug="later-b", created=LATER)

    def expected(self, *ordering: str) -> list[str]:
        return list(Topic.objects.order_by(*ordering).values_list("slug", flat=True))

    def test_oldest_first_reads_every_row_once_in_order(self):
        """("created", "id"), ascending: the instant's five rows split over two
        chunks, none lost or repeated; a query per chunk."""
        rows = Topic.objects.order_by("created", "id").values("slug", "created", "id")

        with self.assertNumQueries(3):
            batches = list(chunks(rows, SIZE))

        self.assertEqual([len(batch) for batch in batches], [3, 3, 1])
        slugs = [row["slug"] for batch in batches for row in batch]
        self.assertEqual(slugs, self.expected("created", "id"))

    async def test_oldest_first_reads_every_row_once_in_order_async(self):
        """See test_oldest_first_reads_every_row_once_in_order()."""
        rows = Topic.objects.order_by("created", "id").values("slug", "created", "id")

        batches = await alist_chunks(rows)

        slugs = [row["slug"] for batch in batches for row in batch]
        expected = await sync_to_async(self.expected)("created", "id")
        self.assertEqual(slugs, expected)

    async def test_a_unique_field_alone_is_a_key(self):
        """("slug",) and ("-slug",): a unique field needs no tie-breaker."""
        for ordering in ("slug", "-slug"):
            with self.subTest(ordering=ordering):
                rows = Topic.objects.order_by(ordering).values("slug")

                batches = await alist_chunks(rows)

                slugs = [row["slug"] for batch in batches for row in batch]
                expected = await sync_to_async(self.expected)(ordering)
                self.assertEqual(slugs, expected)

    async def test_mixed_directions_read_every_row_once(self):
        """("-created", "id"): newest instant first, ids rising within one."""
        rows = Topic.objects.order_by("-created", "id").values("slug", "created", "id")

        batches = await alist_chunks(rows)

        slugs = [row["slug"] for batch in batches for row in batch]
        expected = await sync_to_async(self.expected)("-created", "id")
        self.assertEqual(slugs, expected)

    async def test_an_unordered_queryset_is_refused_before_any_query(self):
        """No order_by() (and no Meta.ordering), or a random one: ValueError."""
        for rows in (Topic.objects.values("id"), Topic.objects.order_by("?")):
            with self.subTest(query=str(rows.query)):
                with self.assertRaisesMessage(ValueError, "Rows must be ordered"):
                    next(chunks(rows))
                with self.assertRaisesMessage(ValueError, "Rows must be ordered"):
                    await anext(achunks(rows))

    async def test_an_ordering_whose_last_field_is_not_unique_is_refused(self):
        """Ordered by created alone, the instant five topics share would be split
        between chunks and rows skipped: ValueError naming the field, before any
        row; an annotation or a field across a relation is no unique key either."""
        refused = {
            "created": Topic.objects.order_by("-created").values("created"),
            "author__name": Topic.objects.order_by("author__name").values(
                "author__name"
            ),
        }
        for field, rows in refused.items():
            with self.subTest(field=field):
                message = f"the last one unique; {field!r} is not."
                with self.assertRaisesMessage(ValueError, message):
                    await sync_to_async(next)(chunks(rows, SIZE))
                with self.assertRaisesMessage(ValueError, message):
                    await anext(achunks(rows, SIZE))

    async def test_an_ordering_by_a_nullable_field_is_refused(self):
        """A NULL is neither before nor equal to anything: rows holding one would
        never come "after" a chunk. Bookmark.topic is nullable: ValueError."""
        rows = Bookmark.objects.order_by("topic", "id").values("topic", "id")

        with self.assertRaisesMessage(ValueError, "'topic' is nullable."):
            await anext(achunks(rows, SIZE))

    async def test_an_ordering_by_expression_is_refused(self):
        """F("created").desc() names no field a row could hold: TypeError."""
        rows = Topic.objects.order_by(F("created").desc(), "id").values("id")

        with self.assertRaisesMessage(TypeError, "field names, not expressions"):
            await anext(achunks(rows))

    def test_rows_lacking_an_ordering_field_are_refused_at_the_first_chunk(self):
        """Ordered by created but not holding it: TypeError naming the field, at
        the first chunk (a stream's 500, not a 200 cut after 2,000 rows)."""
        rows = Topic.objects.order_by("-created", "-id").values("id", "slug")

        with self.assertRaisesMessage(
            TypeError, "Rows must be values() holding ['created', 'id']"
        ):
            next(chunks(rows, SIZE))

    async def test_rows_lacking_an_ordering_field_are_refused_at_the_first_chunk_async(
        self,
    ):
        """See test_rows_lacking_an_ordering_field_are_refused_at_the_first_chunk()."""
        rows = Topic.objects.order_by("-created", "-id").values("id", "slug")

        with self.assertRaisesMessage(
            TypeError, "Rows must be values() holding ['created', 'id']"
        ):
            await anext(achunks(rows, SIZE))

    async def test_model_instances_are_refused(self):
        """The reader pages values() dicts, not instances: TypeError saying so."""
        rows = Topic.objects.order_by("slug")

        with self.assertRaisesMessage(
            TypeError, "Rows must be values() holding ['slug']"
        ):
            await anext(achunks(rows, SIZE))
