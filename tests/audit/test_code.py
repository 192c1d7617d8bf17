"""The static code scan: planted mistakes found where they are, clean code not;
blocking calls; suppression comments; the pitfalls' deliberate mistakes."""

import ast
import re
from pathlib import Path
from unittest import TestCase

from tests.audit.code_support import codes, scan
from topics.audit.code import scan_file, scan_tree

FIXTURES = Path(__file__).parent / "fixtures"
TOPICS = Path(__file__).resolve().parents[2] / "topics"
# "# planted: code.sync-orm" or "# planted: code.sync-orm (warning)"
PLANTED = re.compile(r"# planted: (code\.[a-z-]+)(?: \((\w+)\))?\s*$")


class FixtureTests(TestCase):
    def test_each_planted_problem_is_found_at_its_line_and_nothing_else(self):
        """The markers in planted_views.py say what the scan must report, and where."""
        path = FIXTURES / "planted_views.py"
        expected = set()
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if match := PLANTED.search(line):
                level = match.group(2) or "error"
                expected.add((f"planted_views.py:{number}", match.group(1), level))

        findings = scan_file(path, FIXTURES)

        found = {(f.location, f.code, f.level) for f in findings}
        self.assertEqual(found, expected)
        self.assertEqual(len(findings), len(expected))  # one finding per plant
        planted_codes = {code for _, code, _ in expected}
        self.assertLessEqual(
            {"code.blocking-call", "code.sync-orm", "code.not-awaited"}, planted_codes
        )

    def test_findings_say_what_is_wrong_and_the_fix(self):
        """Each finding names the call and the function, and has a fix."""
        findings = {
            f.location: f for f in scan_file(FIXTURES / "planted_views.py", FIXTURES)
        }
        sleep = next(f for f in findings.values() if "time.sleep()" in f.message)

        self.assertEqual(sleep.area, "code")
        self.assertEqual(
            sleep.message,
            "time.sleep() blocks the event loop in async def slow_view().",
        )
        self.assertEqual(sleep.fix, "await asyncio.sleep(...) instead.")
        count = next(f for f in findings.values() if ".count()" in f.message)
        self.assertIn("await Order.objects.filter(...).acount()", count.fix)
        self.assertIs(all(f.fix for f in findings.values()), True)

    def test_the_correct_async_equivalents_have_no_finding(self):
        """clean_views.py does what planted_views.py does, the async way."""
        self.assertEqual(scan_file(FIXTURES / "clean_views.py", FIXTURES), [])

    def test_location_is_relative_to_the_root_given(self):
        findings = scan_file(FIXTURES / "planted_views.py", FIXTURES.parent.parent)

        self.assertTrue(findings)
        self.assertIs(
            all(
                f.location.startswith("audit/fixtures/planted_views.py:")
                for f in findings
            ),
            True,
        )


class BlockingCallTests(TestCase):
    def test_import_aliases_are_resolved(self):
        findings = scan(
            """
            import time as t
            import subprocess as sp
            from time import sleep as nap
            from urllib.request import urlopen
            from requests import Session

            async def view():
                t.sleep(1)
                nap(1)
                urlopen("https://example.com")
                sp.check_output(["ls"])
                Session()
            """
        )

        self.assertEqual(
            [f.location for f in findings],
            [
                "snippet.py:9",
                "snippet.py:10",
                "snippet.py:11",
                "snippet.py:12",
                "snippet.py:13",
            ],
        )
        self.assertIs(all(f.code == "code.blocking-call" for f in findings), True)
        self.assertIn("t.sleep() (time.sleep)", findings[0].message)

    def test_lookalikes_are_not_blocking(self):
        """asyncio.sleep, aiofiles.open, a local open, requests' exceptions."""
        findings = scan(
            """
            import asyncio
            import requests
            from aiofiles import open

            async def view(path):
                await asyncio.sleep(1)
                async with open(path) as source:
                    pass
                raise requests.HTTPError("no")

            async def other(open):
                open("x")
            """
        )

        self.assertEqual(findings, [])

    def test_nested_def_and_lambda_in_async_def_are_not_the_loop(self):
        """They run elsewhere (a thread); a nested async def is the loop again."""
        findings = scan(
            """
            import asyncio
            import time

            async def view():
                def work():
                    time.sleep(1)
                await asyncio.to_thread(work)
                await asyncio.to_thread(lambda: time.sleep(1))

            def sync_view():
                time.sleep(1)

                async def inner():
                    time.sleep(2)
            """
        )

        self.assertEqual(codes(findings), [("snippet.py:15", "code.blocking-call")])
        self.assertIn("async def sync_view.inner()", findings[0].message)

    def test_async_to_sync_and_asyncio_run_inside_the_loop(self):
        findings = scan(
            """
            import asyncio
            from asgiref.sync import async_to_sync

            async def fetch():
                return 1

            async def view():
                async_to_sync(fetch)()
                asyncio.run(fetch())
            """
        )

        self.assertEqual(
            codes(findings),
            [
                ("snippet.py:9", "code.blocking-call"),
                ("snippet.py:10", "code.blocking-call"),
            ],
        )
        self.assertIn("cannot run inside the running event loop", findings[0].message)


class SuppressionTests(TestCase):
    SOURCE = """
        import time

        async def view():
            time.sleep(1)  # async-audit: ignore
            time.sleep(2)  # async-audit: ignore[code.blocking-call]
            time.sleep(3)  # async-audit: ignore[code.sync-orm]
            time.sleep(4)  # async-audit: ignore[code.sync-orm, code.blocking-call]
            Order.objects.count(); time.sleep(5)  # async-audit: ignore[code.sync-orm]
            time.sleep(6)
            print("# async-audit: ignore")
        """

    def test_a_comment_silences_its_line_for_all_or_the_codes_named(self):
        findings = scan(self.SOURCE)

        self.assertEqual(
            codes(findings),
            [
                ("snippet.py:7", "code.blocking-call"),
                ("snippet.py:9", "code.blocking-call"),
                ("snippet.py:10", "code.blocking-call"),
            ],
        )


class PitfallsTests(TestCase):
    def test_findings_in_the_pitfalls_are_in_their_wrong_snippets(self):
        """topics/pitfalls holds deliberate mistakes, each in a wrong_* function
        or a Wrong* class (a class-based view)."""
        functions = {}  # (file, line) -> the top-level def or class holding that line
        for path in (TOPICS / "pitfalls").glob("*.py"):
            for node in ast.parse(path.read_text()).body:
                if isinstance(
                    node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
                ):
                    start = min([d.lineno for d in node.decorator_list], default=None)
                    for line in range(start or node.lineno, node.end_lineno + 1):
                        functions[(path.name, line)] = node.name

        findings = scan_tree(TOPICS / "pitfalls")

        flagged = set()
        for finding in findings:
            name, _, line = finding.location.rpartition(":")
            flagged.add(functions.get((name, int(line)), finding.location))
        self.assertIs(
            all(name.startswith(("wrong_", "Wrong")) for name in flagged), True, flagged
        )
        self.assertGreaterEqual(len(flagged), 12)  # recall on the known mistakes
