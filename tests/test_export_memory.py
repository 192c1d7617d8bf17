"""The async streaming export's memory stays flat as the table grows.

Peak traced Python memory while streaming one subject's 12.5% of 100,000
topics and then all of them: a buffered path would grow about eight times; this one may
not double. (The benchmark measures the server's whole RSS on a million rows.)
"""

import tracemalloc

from django.test import TestCase

from project.demo.seeding import seed_topics
from topics.models import Topic

TOPICS = 100_000


class StreamMemoryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_topics(count=TOPICS)

    async def peak_while_streaming(self, url: str) -> tuple[int, int]:
        """(rows streamed, peak traced bytes) for one streamed export."""
        response = await self.async_client.get(url)
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            lines = 0
            async for part in response:
                lines += part.count(b"\n")
            return lines - 1, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    async def test_memory_is_flat_from_12k_to_100k_rows(self):
        """Eight times the rows, well under twice the memory."""
        subject = await Topic.objects.filter(title__startswith="Thread hops").acount()

        few_rows, few_peak = await self.peak_while_streaming(
            "/async/exports/stream/?q=Thread%20hops"
        )
        all_rows, all_peak = await self.peak_while_streaming("/async/exports/stream/")

        self.assertEqual((few_rows, all_rows), (subject, TOPICS))
        self.assertGreater(all_rows, 6 * few_rows)
        self.assertLess(all_peak, 2 * few_peak, (few_peak, all_peak))
