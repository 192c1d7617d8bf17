"""Parity, generated from the registry: every twin answers every example alike."""

from django.test import TestCase

from topics.pairs import PAIRS, Pair
from topics.seeding import seed_topics


class TwinParityTests(TestCase):
    """The same request to each twin gives the same status, type and bytes."""

    @classmethod
    def setUpTestData(cls):
        seed_topics(count=30)


def _parity_test(pair: Pair, example: str):
    async def test(self: TwinParityTests) -> None:
        expected = await self.async_client.get(f"/sync/{example}")

        self.assertLess(expected.status_code, 500, f"/sync/{example}")
        for twin in pair.twins()[1:]:
            url = f"/{twin.prefix}/{example}"
            response = await self.async_client.get(url)
            self.assertEqual(response.status_code, expected.status_code, url)
            self.assertEqual(response["Content-Type"], expected["Content-Type"], url)
            self.assertEqual(response.content, expected.content, url)

    test.__doc__ = f"Every twin of {pair.name} answers {example} as the sync twin does."
    return test


for _pair in PAIRS:
    for _number, _example in enumerate(_pair.examples, start=1):
        setattr(
            TwinParityTests,
            f"test_{_pair.name}_example_{_number}",
            _parity_test(_pair, _example),
        )
