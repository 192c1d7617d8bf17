"""Export files written: atomic, with validated names, a full disk and a name
taken by a folder refused, concurrent writers never interleaved."""

import asyncio
import csv
import io
import json
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import TestCase

from project.demo.seeding import seed_topics
from tests.twins import prefixes
from tests.views.exports_support import export_root, leftovers
from topics import exportfiles
from topics.exportfiles import NAME_IS_A_FOLDER
from topics.exports import COLUMNS, export_folder
from topics.models import Topic


class ExportCreateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_topics(count=40)

    async def post(self, prefix: str, **query):
        url = f"/{prefix}/exports/?" + "&".join(f"{k}={v}" for k, v in query.items())
        return await self.async_client.post(url)

    async def test_export_writes_every_row_and_reports_it(self):
        """CSV and JSON Lines: the file holds the rows the response counts."""
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                for fmt in ("csv", "jsonl"):
                    response = await self.post(prefix, name=f"all-{prefix}", format=fmt)

                    self.assertEqual(response.status_code, 201)
                    data = response.json()
                    path = Path(settings.EXPORT_ROOT) / data["id"]
                    content = path.read_bytes()
                    self.assertEqual((data["rows"], data["bytes"]), (40, len(content)))
                    if fmt == "csv":
                        rows = list(csv.DictReader(io.StringIO(content.decode())))
                    else:
                        rows = [json.loads(line) for line in content.splitlines()]
                    self.assertEqual(len(rows), 40)
                    self.assertEqual(rows[0]["slug"], "topic-40")
        self.assertEqual(leftovers(), [])

    async def test_every_writer_writes_the_same_bytes(self):
        """open(), aiofiles and the pipeline write identical files."""
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                await self.post(
                    prefix, name=f"same-{prefix}", format="csv", tag="django"
                )

        files = {
            (export_root() / f"same-{w}.csv").read_bytes()
            for w in prefixes("export_create")
        }
        self.assertEqual(len(files), 1)

    async def test_cancelled_export_leaves_no_file(self):
        """Cancelled mid-write (the client left): no temporary, no final file."""
        task = asyncio.create_task(
            exportfiles.awrite_export(
                Topic.objects.listing(),
                folder=export_folder(),
                export_id="cancelled.csv",
                fmt="csv",
                columns=COLUMNS,
            )
        )
        async with asyncio.timeout(5):
            while not leftovers():  # noqa: ASYNC110 -- waits for the writer's file
                await asyncio.sleep(0)

        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task

        self.assertEqual(leftovers(), [])
        self.assertIs((export_root() / "cancelled.csv").exists(), False)

    async def test_names_that_could_escape_are_400(self):
        """Dot segments, absolute paths, NUL, a leading dot: 400, nothing written."""
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                for name in ("..%2Fx", "%2Fetc%2Fpasswd", "a%00b", ".hidden", "a.b"):
                    response = await self.post(prefix, name=name)

                    self.assertEqual(response.status_code, 400, (prefix, name))
                    self.assertEqual(response.json()["error"]["parameter"], "name")
        self.assertEqual(leftovers(), [])

    async def test_a_symlink_out_of_the_folder_is_refused(self):
        """A name whose file is a symlink elsewhere: 400, and the target untouched."""
        target = Path(settings.EXPORT_ROOT).parent / "outside.csv"
        target.write_text("keep me")
        link = export_root() / "evil.csv"
        link.symlink_to(target)
        try:
            for prefix in prefixes("export_download"):
                with self.subTest(twin=prefix):
                    created = await self.post(prefix, name="evil", format="csv")
                    downloaded = await self.async_client.get(
                        f"/{prefix}/exports/files/evil.csv/"
                    )

                    self.assertEqual(created.status_code, 400)
                    self.assertEqual(downloaded.status_code, 400)
            self.assertEqual(target.read_text(), "keep me")
        finally:
            link.unlink()

    async def test_full_disk_is_507_and_keeps_the_previous_export(self):
        """ENOSPC (from /dev/full): 507 JSON, no temporary file, old file intact."""
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                await self.post(prefix, name=f"full-{prefix}", format="csv")
                final = export_root() / f"full-{prefix}.csv"
                before = final.read_bytes()
                full = export_root() / f".full-{prefix}.tmp"
                full.symlink_to("/dev/full")

                with mock.patch.object(
                    exportfiles, "temporary_path", return_value=full
                ):
                    response = await self.post(
                        prefix, name=f"full-{prefix}", format="csv"
                    )

                self.assertEqual(response.status_code, 507, prefix)
                self.assertEqual(
                    response.json()["error"]["code"], "insufficient_storage"
                )
                self.assertIs(full.exists() or full.is_symlink(), False)
                self.assertEqual(final.read_bytes(), before)

    async def test_a_name_taken_by_a_folder_is_409(self):
        """An export named like a folder in the export folder: 409 JSON, no
        temporary left, the folder untouched; its download is a 404."""
        folder = export_root() / "folder.csv"
        folder.mkdir()
        self.addCleanup(folder.rmdir)
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                response = await self.post(prefix, name="folder", format="csv")

                self.assertEqual(response.status_code, 409, prefix)
                self.assertEqual(response.json()["error"]["code"], "conflict")
                self.assertEqual(response.json()["error"]["message"], NAME_IS_A_FOLDER)
        for prefix in prefixes("export_download"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/exports/files/folder.csv/"
                )

                self.assertEqual(response.status_code, 404, prefix)
        self.assertIs(folder.is_dir(), True)
        self.assertEqual(leftovers(), [])

    async def test_concurrent_exports_of_one_name_never_interleave(self):
        """Six exports to one name at once: one whole file, no temporary left."""
        responses = await asyncio.gather(
            *(
                self.post(prefix, name="raced", format="csv")
                for prefix in prefixes("export_create") * 2
            )
        )

        self.assertEqual({response.status_code for response in responses}, {201})
        content = (export_root() / "raced.csv").read_text()
        self.assertEqual(content.count("id,slug,title"), 1)
        self.assertEqual(len(content.splitlines()), 41)
        self.assertEqual(leftovers(), [])

    async def test_unknown_format_or_filter_is_400_naming_it(self):
        """?format= and the search filters are validated before any write."""
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                for query, name in (
                    ({"format": "xml"}, "format"),
                    ({"tag": "A B"}, "tag"),
                ):
                    response = await self.post(prefix, **query)

                    self.assertEqual(response.json()["error"]["parameter"], name)

    def test_command_uses_the_same_export_code(self):
        """manage.py export_topics writes what the views write."""
        out = io.StringIO()

        call_command(
            "export_topics", format="jsonl", name="cmd", verbosity=0, stdout=out
        )

        self.assertIn("Wrote 40 rows", out.getvalue())
        lines = (export_root() / "cmd.jsonl").read_text().splitlines()
        self.assertEqual(len(lines), 40)
        with self.assertRaisesMessage(
            CommandError, "format: must be one of: csv, jsonl."
        ):
            call_command("export_topics", format="xml", verbosity=0)
