"""Exports cannot fill the disk: a quota on the export folder, and `purge`, which
deletes old exports, abandoned temporaries and expired Idempotency-Keys."""

import io
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import TestCase, override_settings
from django.utils import timezone

from project.demo.seeding import seed_topics
from tests.twins import prefixes
from tests.views.exports_support import export_root, leftovers
from topics.models import IdempotencyKey

HOUR = 60 * 60
DAY = 24 * HOUR


def aged(path: Path, seconds: float) -> Path:
    """Create path, last written `seconds` ago."""
    path.write_bytes(b"x")
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


class ExportQuotaTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_topics(count=40)

    def setUp(self):
        self.root = Path(self.enterContext(tempfile.TemporaryDirectory()))

    async def post(self, prefix: str, name: str):
        return await self.async_client.post(f"/{prefix}/exports/?name={name}")

    async def test_an_export_past_the_file_cap_is_507_and_writes_nothing(self):
        """Two files allowed: a third name is refused, a re-export of one is not."""
        for prefix in prefixes("export_create"):
            with (
                self.subTest(twin=prefix),
                override_settings(EXPORT_ROOT=self.root / prefix, EXPORT_MAX_FILES=2),
            ):
                first = await self.post(prefix, "first")
                second = await self.post(prefix, "second")
                third = await self.post(prefix, "third")
                again = await self.post(prefix, "first")

                self.assertEqual(
                    [r.status_code for r in (first, second, third, again)],
                    [201, 201, 507, 201],
                    prefix,
                )
                self.assertEqual(third.json()["error"]["code"], "insufficient_storage")
                self.assertEqual(
                    sorted(path.name for path in export_root().iterdir()),
                    ["first.csv", "second.csv"],
                )

    async def test_an_export_past_the_byte_cap_is_507_and_writes_nothing(self):
        """A cap of one byte: the first export fits in the empty folder, no more."""
        for prefix in prefixes("export_create"):
            with (
                self.subTest(twin=prefix),
                override_settings(EXPORT_ROOT=self.root / prefix, EXPORT_MAX_BYTES=1),
            ):
                first = await self.post(prefix, "first")
                second = await self.post(prefix, "second")

                self.assertEqual((first.status_code, second.status_code), (201, 507))
                self.assertEqual(second.json()["error"]["code"], "insufficient_storage")
                self.assertIs((export_root() / "second.csv").exists(), False)
                self.assertEqual(leftovers(), [])


@override_settings(
    EXPORT_MAX_AGE=7 * DAY, EXPORT_TEMPORARY_MAX_AGE=HOUR, IDEMPOTENCY_KEY_MAX_AGE=DAY
)
class PurgeTests(TestCase):
    def setUp(self):
        root = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.enterContext(override_settings(EXPORT_ROOT=root))
        self.old = [
            aged(root / "old.csv", 8 * DAY),
            aged(root / f".old.csv.{'a' * 32}.tmp", 2 * HOUR),
        ]
        self.kept = [
            aged(root / "recent.jsonl", 6 * DAY),
            aged(root / f".live.csv.{'b' * 32}.tmp", HOUR / 2),
            aged(root / "notes.txt", 30 * DAY),  # not an export: not ours to delete
        ]
        (root / "folder.csv").mkdir()
        now = timezone.now()
        IdempotencyKey.objects.create(
            key="expired",
            fingerprint="0" * 64,
            response={},
            created=now - timedelta(seconds=DAY + 1),
        )
        IdempotencyKey.objects.create(key="live", fingerprint="0" * 64, response={})

    def purge(self, *args: str) -> str:
        out = io.StringIO()
        call_command("purge", *args, stdout=out)
        return out.getvalue()

    def test_dry_run_lists_what_would_go_and_deletes_nothing(self):
        """--dry-run: the old export, the idle temporary, the expired key; kept."""
        output = self.purge("--dry-run")

        self.assertIn("Would delete old.csv", output)
        self.assertIn("Would delete 2 files and 1 idempotency keys.", output)
        self.assertIs(all(path.exists() for path in self.old + self.kept), True)
        self.assertEqual(IdempotencyKey.objects.count(), 2)

    def test_purge_deletes_old_exports_idle_temporaries_and_expired_keys(self):
        """What is recent, live, or not an export stays."""
        output = self.purge()

        self.assertIn("Deleted 2 files and 1 idempotency keys.", output)
        self.assertEqual([path for path in self.old if path.exists()], [])
        self.assertEqual([path for path in self.kept if not path.exists()], [])
        self.assertIs((settings.EXPORT_ROOT / "folder.csv").is_dir(), True)
        self.assertQuerySetEqual(
            IdempotencyKey.objects.values_list("key", flat=True), ["live"]
        )
