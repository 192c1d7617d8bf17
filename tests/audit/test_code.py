"""The static code scan: planted mistakes found where they are, clean code not."""

import ast
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path
from unittest import TestCase, mock

from topics.audit.code import files as code_files
from topics.audit.code import scan_file, scan_source, scan_tree
from topics.audit.code.scanner import Scanner
from topics.audit.findings import Finding

FIXTURES = Path(__file__).parent / "fixtures"
TOPICS = Path(__file__).resolve().parents[2] / "topics"
# "# planted: code.sync-orm" or "# planted: code.sync-orm (warning)"
PLANTED = re.compile(r"# planted: (code\.[a-z-]+)(?: \((\w+)\))?\s*$")


def scan(source: str) -> list[Finding]:
    """Scan a snippet written indented in a test."""
    return scan_source(textwrap.dedent(source), "snippet.py")


def codes(findings: list[Finding]) -> list[tuple[str, str]]:
    """(location, code) of each finding, in the scan's order."""
    return [(finding.location, finding.code) for finding in findings]


def write(root: Path, files: dict[str, str | bytes]) -> None:
    """Create files under root; str is written as UTF-8."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")


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
        self.assertTrue(all(f.fix for f in findings.values()))

    def test_the_correct_async_equivalents_have_no_finding(self):
        """clean_views.py does what planted_views.py does, the async way."""
        self.assertEqual(scan_file(FIXTURES / "clean_views.py", FIXTURES), [])

    def test_location_is_relative_to_the_root_given(self):
        findings = scan_file(FIXTURES / "planted_views.py", FIXTURES.parent.parent)

        self.assertTrue(findings)
        self.assertTrue(
            all(
                f.location.startswith("audit/fixtures/planted_views.py:")
                for f in findings
            )
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
        self.assertTrue(all(f.code == "code.blocking-call" for f in findings))
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


class SyncOrmTests(TestCase):
    def test_sync_methods_and_evaluation_are_errors(self):
        findings = scan(
            """
            async def view(pk):
                Order.objects.get(pk=pk)
                Order._default_manager.filter(pk=pk).exists()
                self.model._default_manager.first()
                list(Order.objects.filter(pk=pk))
                bool(Order.objects.all())
                if Order.objects.filter(pk=pk):
                    pass
                Order.objects.all()[0]
                for order in Order.objects.all()[:10]:
                    pass
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [(f"snippet.py:{line}", "error") for line in (3, 4, 5, 6, 7, 8, 10, 11)],
        )
        self.assertTrue(all(f.code == "code.sync-orm" for f in findings))

    def test_async_methods_awaits_and_lazy_building_are_fine(self):
        findings = scan(
            """
            async def view(pk):
                qs = Order.objects.filter(pk=pk)
                qs = qs.order_by("id")
                await qs.aget()
                await Order.objects.acount()
                orders = [order async for order in qs]
                async for order in Order.objects.all().aiterator():
                    pass
                page = qs[10:20]
                settings.objects.get("key")
                return qs, page, orders
            """
        )

        self.assertEqual(findings, [])

    def test_a_queryset_name_or_parameter_evaluated_is_an_error(self):
        """A name only ever bound to a lazy chain, or annotated QuerySet, is one."""
        findings = scan(
            """
            from django.db.models import QuerySet

            async def view(rows: QuerySet, other):
                paid = Order.objects.filter(paid=True).order_by("id")
                total = len(paid)
                names = [row.name for row in rows]
                for item in other:
                    pass
                again = Order.objects.all()
                again = list(again)
                return total, names, again
            """
        )

        self.assertEqual(
            codes(findings),
            [("snippet.py:6", "code.sync-orm"), ("snippet.py:7", "code.sync-orm")],
        )

    def test_save_delete_are_warnings_and_a_chain_is_reported_once(self):
        findings = scan(
            """
            async def view(order, form):
                order.save()
                form.full_clean()
                await order.adelete()
                Order.objects.get(pk=1).delete()
                draft = form.save(commit=False)  # builds it, runs no query
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [
                ("snippet.py:3", "warning"),
                ("snippet.py:4", "warning"),
                ("snippet.py:6", "error"),
            ],
        )
        self.assertIn("Order.objects.get(...)", findings[2].message)

    def test_save_delete_with_arguments_no_model_method_takes_are_not_models(self):
        """image.save(buffer, format="PNG") is PIL's; Model.save() is keyword-only,
        and each model method takes only its own keywords."""
        findings = scan(
            """
            async def view(order, form, image, buffer, cache, serializer, kwargs):
                image.save(buffer, format="PNG")
                image.save("out.png")
                cache.delete("key")
                serializer.save(owner=order.owner)
                order.refresh_from_db(force=True)
                order.full_clean(strict=True)
                order.save(update_fields=["paid"])
                order.delete(keep_parents=True)
                form.save(commit=True)
                order.refresh_from_db("default", fields=["paid"])
                order.full_clean(exclude=["paid"])
                order.save(**kwargs)
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [(f"snippet.py:{line}", "warning") for line in range(9, 15)],
        )
        self.assertEqual(
            findings[0].fix, "await order.asave(), or do it inside one sync_to_async."
        )
        self.assertIn("A ModelForm's save() has no async variant", findings[2].fix)

    def test_a_related_manager_of_a_parameter_evaluated_is_info(self):
        """order.items.all() is free when prefetched, and order comes from the
        caller: the scan cannot tell (tests/audit/test_code_related.py)."""
        findings = scan(
            """
            async def view(order):
                return [item.name for item in order.items.all()]
            """
        )

        self.assertEqual(
            [(f.code, f.level) for f in findings], [("code.sync-orm", "info")]
        )
        self.assertIn("unless the relation was prefetched", findings[0].message)

    def test_a_name_holding_a_related_manager_chain_is_not_an_error(self):
        """files = agent.files.all() is the inline chain's finding, not an error
        (info: agent is a parameter); filtered, it queries, prefetched or not (a
        warning); a name that may hold Model.objects' chain is still an error."""
        findings = scan(
            """
            async def view(agent, flag):
                files = agent.fileobject_set.all()
                names = [f.name for f in files]
                recent = files.filter(new=True)
                recent = recent.order_by("-id")
                total = len(recent)
                mixed = agent.tags.all()
                if flag:
                    mixed = Tag.objects.all()
                everyone = Agent.objects.filter(team=agent.team)
                return names, total, list(mixed), [a.pk for a in everyone]
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [
                ("snippet.py:4", "info"),
                ("snippet.py:7", "warning"),
                ("snippet.py:12", "error"),
                ("snippet.py:12", "error"),
            ],
        )
        self.assertIn("unless the relation was prefetched", findings[0].message)
        self.assertEqual(
            [f.message.split(" runs")[0] for f in findings[2:]],
            ["Iterating everyone", "list(mixed)"],
        )

    def test_atomic_around_async_code_and_the_orm_in_to_thread(self):
        findings = scan(
            """
            import asyncio
            from django.db import transaction

            @transaction.atomic
            async def retitle(topic):
                await topic.asave()

            async def count():
                return await asyncio.to_thread(Topic.objects.count)

            @transaction.atomic
            def sync_retitle(topic):
                with transaction.atomic(using="other"):
                    topic.save()
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [("snippet.py:5", "error"), ("snippet.py:10", "warning")],
        )
        self.assertIn("@transaction.atomic cannot wrap", findings[0].message)

    def test_a_lazy_queryset_from_sync_to_async_and_the_sync_paginator(self):
        """The lambda builds a query and runs none: it runs later, on the loop."""
        findings = scan(
            """
            from asgiref.sync import sync_to_async
            from django.core.paginator import Paginator

            async def view(number):
                rows = await sync_to_async(lambda: Topic.objects.all())()
                listed = await sync_to_async(lambda: list(Topic.objects.all()))()
                return Paginator(listed, 10).page(number)
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [("snippet.py:6", "error"), ("snippet.py:8", "warning")],
        )
        self.assertIn("lambda: list(Topic.objects.all())", findings[0].fix)

    def test_request_user_and_session_read_the_sync_way(self):
        findings = scan(
            """
            async def view(request):
                name = request.user.username
                theme = request.session["theme"]
                request.session.get("theme")
                # A bound method handed to a thread is not called on the loop.
                await sync_to_async(request.session.get)("theme")
                return await request.session.aget("theme")
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [
                ("snippet.py:3", "warning"),
                ("snippet.py:4", "warning"),
                ("snippet.py:5", "warning"),
            ],
        )

    def test_a_request_annotated_with_a_type_from_outside_django_is_not_one(self):
        """Starlette's and FastAPI's Request run no query for .user or .session;
        DRF's, adrf's and ninja's wrap Django's; no annotation is Django's."""
        findings = scan(
            """
            from typing import Annotated, Optional

            import starlette.requests
            from django.http import HttpRequest
            from fastapi import Depends, Request
            from rest_framework.request import Request as DRFRequest
            from starlette.requests import HTTPConnection
            from starlette.websockets import WebSocket

            async def fastapi_view(request: Request):
                return request.user.object, request.session.get("user")

            async def starlette_view(request: Optional[HTTPConnection] = None):
                return request.session["user"]

            async def socket(request: "WebSocket | None"):
                return request.user

            async def depends(request: Annotated[Request, Depends()]):
                async def inner():
                    return request.user
                return request.user, await inner()

            async def dotted(request: starlette.requests.Request):
                return request.session.pop("user")

            async def django_view(request: HttpRequest):
                return request.user

            async def drf_view(request: DRFRequest):
                return request.session.get("user")

            async def plain_view(request):
                return request.user

            async def mixed_view(request: Request | HttpRequest):
                return request.user
            """
        )

        self.assertEqual(
            [(f.location, f.message.split(" ")[0]) for f in findings],
            [
                ("snippet.py:29", "request.user"),
                ("snippet.py:32", "request.session.get()"),
                ("snippet.py:35", "request.user"),
                ("snippet.py:38", "request.user"),
            ],
        )

    def test_a_request_type_of_the_project_itself_may_be_django_s(self):
        """A subclass of HttpRequest, defined in the project, is typical."""
        findings = scan_source(
            textwrap.dedent(
                """
                from shop.http import AuthenticatedRequest
                from .types import TypedRequest

                class LocalRequest(HttpRequest):
                    pass

                async def view(request: AuthenticatedRequest):
                    return request.user

                async def other(request: TypedRequest):
                    return request.user

                async def local(request: "LocalRequest"):
                    return request.user
                """
            ),
            "shop/views.py",
        )

        self.assertEqual(
            [f.location for f in findings],
            ["shop/views.py:9", "shop/views.py:12", "shop/views.py:15"],
        )

    def test_one_finding_per_line_code_and_message_at_its_first_column(self):
        """The lazy user loads once: two reads on a line are one finding."""
        findings = scan(
            """
            async def view(request):
                pk = request.user.pk if request.user.is_authenticated else None
                name = request.user.username
                theme = request.user.theme or request.session["theme"]
                return pk, name, theme
            """
        )

        self.assertEqual(
            [(f.location, f.column, f.message.split(" ")[0]) for f in findings],
            [
                ("snippet.py:3", 10, "request.user"),
                ("snippet.py:4", 12, "request.user"),
                ("snippet.py:5", 35, "request.session[...]"),
                ("snippet.py:5", 13, "request.user"),
            ],
        )


class NotAwaitedTests(TestCase):
    def test_dropped_and_misused_coroutines_anywhere(self):
        findings = scan(
            """
            import asyncio as aio

            async def fetch():
                return 1

            def sync_code():
                fetch()

            async def view():
                aio.sleep(1)
                total = fetch() + 1
                print(f"{fetch()}")
                return fetch()

            fetch()
            """
        )

        self.assertEqual(
            [f.location for f in findings],
            [f"snippet.py:{line}" for line in (8, 11, 12, 13, 14, 16)],
        )
        self.assertTrue(all(f.code == "code.not-awaited" for f in findings))

    def test_handed_on_coroutines_are_not_findings(self):
        """Arguments to create_task/gather, awaited names, async generators."""
        findings = scan(
            """
            import asyncio

            async def fetch():
                return 1

            async def stream():
                yield 1

            async def view(tasks):
                first = fetch()
                second = fetch()
                task = asyncio.create_task(first)
                tasks.add(task)
                await asyncio.gather(second, fetch())
                asyncio.ensure_future(fetch()).add_done_callback(print)
                return stream()

            def sync_view():
                return fetch()
            """
        )

        self.assertEqual(findings, [])

    def test_a_name_that_is_not_always_an_async_def_is_not_known(self):
        """fetch is also a parameter elsewhere: the scan cannot tell which it is."""
        findings = scan(
            """
            async def fetch():
                return 1

            def run(fetch):
                fetch()
            """
        )

        self.assertEqual(findings, [])

    def test_a_dropped_task_is_a_warning(self):
        findings = scan(
            """
            from asyncio import create_task, sleep

            async def job():
                await sleep(1)

            def start():
                create_task(job())
            """
        )

        self.assertEqual(
            [(f.code, f.level) for f in findings], [("code.dropped-task", "warning")]
        )

    def test_a_class_is_read_once_however_many_self_calls_it_has(self):
        """Each self.x() looked x up in the whole class body: quadratic, 13 s for a
        test class of 4000 methods. The body is now read a fixed number of times."""

        class CountedBody(list):
            reads = 0

            def __iter__(self):
                CountedBody.reads += 1
                return super().__iter__()

        methods = 300
        tree = ast.parse(
            "class T:\n"
            + "".join(
                f"    def t{i}(self):\n        self.check(1)\n" for i in range(methods)
            )
            + "    async def check(self, x):\n        pass\n"
        )
        klass = tree.body[0]
        klass.body = CountedBody(klass.body)

        findings = Scanner(tree, "snippet.py").scan()

        # Each self.check(1) is a coroutine never awaited: still every one found.
        self.assertEqual(len(findings), methods)
        self.assertTrue(all(f.code == "code.not-awaited" for f in findings))
        self.assertLess(CountedBody.reads, 10)


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


class FileAndTreeTests(TestCase):
    def setUp(self):
        self.root = Path(self.enterContext(tempfile.TemporaryDirectory()))

    def test_a_large_tree_is_scanned_in_workers_with_the_same_findings(self):
        """From PARALLEL_FROM files on, worker processes scan the tree: the
        findings, their order and suppressions are those of one process."""
        files = {
            f"app{n}/views.py": (
                "import time\n\nasync def view():\n    time.sleep(1)\n"
                "    time.sleep(2)  # async-audit: ignore[code.blocking-call]\n"
            )
            for n in range(12)
        }
        files["app3/broken.py"] = "def view(:\n"
        write(self.root, files)
        serial = scan_tree(self.root)

        pool = mock.Mock(wraps=code_files.ProcessPoolExecutor)
        with (
            mock.patch.object(code_files, "PARALLEL_FROM", 2),
            mock.patch.object(code_files, "ProcessPoolExecutor", pool),
        ):
            parallel = scan_tree(self.root)

        pool.assert_called_once()
        self.assertEqual(len(serial), 13)
        self.assertEqual(parallel, serial)

    def test_workers_need_no_main_guard_in_the_calling_script(self):
        """A script with no `if __name__ == "__main__"` that scans a large tree:
        the workers do not re-run it (spawn would, and fail noisily)."""
        write(
            self.root,
            {f"app{n}/views.py": "import time\n\nasync def v():\n    time.sleep(1)\n"
             for n in range(4)},
        )  # fmt: skip
        script = self.root / "scan.py"
        script.write_text(
            "from pathlib import Path\n"
            "from topics.audit.code import files\n\n"
            "files.PARALLEL_FROM = 2\n"
            f"print(len(files.scan_tree(Path({str(self.root)!r}))))\n"
        )
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}

        done = subprocess.run(
            [sys.executable, "-W", "error", str(script)],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )  # fmt: skip

        self.assertEqual((done.stdout, done.stderr), ("4\n", ""))

    def test_unparsable_files_are_one_warning_each_and_the_scan_goes_on(self):
        write(
            self.root,
            {
                "a_broken.py": "def view(:\n    pass\n",
                # Not UTF-8, and no encoding declared.
                "b_bytes.py": (
                    b"import time\nNAME = '\xff'\n\nasync def v():\n    time.sleep(1)\n"
                ),
                "c_views.py": "import time\n\nasync def view():\n    time.sleep(1)\n",
            },
        )

        findings = scan_tree(self.root)

        self.assertEqual(
            [(f.location, f.code, f.level, f.area) for f in findings],
            [
                ("a_broken.py:1", "code.unparsable", "warning", "import"),
                ("b_bytes.py:1", "code.unparsable", "warning", "import"),
                # Decoded with replacement characters, the rest is still scanned.
                ("b_bytes.py:5", "code.blocking-call", "error", "code"),
                ("c_views.py:4", "code.blocking-call", "error", "code"),
            ],
        )
        self.assertIn("SyntaxError", findings[0].message)
        self.assertIn("utf-8", findings[1].message)
        # Newer syntax than this Python reads is the likeliest cause: say so.
        running = f"Python {sys.version_info.major}.{sys.version_info.minor}'s grammar"
        self.assertIn(running, findings[0].fix)

    def test_an_encoding_declaration_is_honoured(self):
        write(
            self.root,
            {
                "latin.py": "# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\n".encode(
                    "latin-1"
                )
            },
        )

        self.assertEqual(scan_tree(self.root), [])

    def test_a_syntax_warning_is_no_error_even_under_w_error(self):
        """An invalid escape warns (SyntaxWarning); the file is still scanned."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            findings = scan(
                r"""
                import time
                PATTERN = "\d+"

                async def view():
                    time.sleep(1)
                """
            )

        self.assertEqual(codes(findings), [("snippet.py:6", "code.blocking-call")])

    def test_migrations_caches_hidden_and_virtualenv_folders_are_skipped(self):
        planted = "import time\nasync def v():\n    time.sleep(1)\n"
        write(
            self.root,
            {
                "app/views.py": planted,
                "app/migrations/0001_initial.py": planted,
                "app/__pycache__/views.py": planted,
                ".hidden/views.py": planted,
                ".venv-3.12/lib/views.py": planted,
                "venv/lib/views.py": planted,
                "env/pyvenv.cfg": "home = /usr\n",
                "env/lib/views.py": planted,
                "lib/site-packages/pkg/views.py": planted,
                "node_modules/pkg/views.py": planted,
                "app/views.txt": planted,
            },
        )

        self.assertEqual([f.location for f in scan_tree(self.root)], ["app/views.py:3"])

    def test_exclude_globs_match_the_relative_path(self):
        planted = "import time\nasync def v():\n    time.sleep(1)\n"
        write(
            self.root,
            {
                "b.py": planted,
                "a.py": planted,
                "pitfalls/wrong.py": planted,
                "app/pitfalls/wrong.py": planted,
                "app/other.py": planted,
            },
        )

        def locations(*exclude: str) -> list[str]:
            return [f.location for f in scan_tree(self.root, exclude=exclude)]

        self.assertEqual(len(locations()), 5)
        self.assertEqual(
            locations("pitfalls/*"),
            ["a.py:3", "app/other.py:3", "app/pitfalls/wrong.py:3", "b.py:3"],
        )
        self.assertEqual(
            locations("pitfalls/*", "*/pitfalls/*"),
            ["a.py:3", "app/other.py:3", "b.py:3"],
        )
        self.assertEqual(locations("app", "b.py"), ["a.py:3", "pitfalls/wrong.py:3"])

    def test_exclude_globs_match_the_path_as_shown_and_report_their_use(self):
        """Given the root's shown path, a glob matches paths as the report prints
        them; the globs that matched are collected, so a dead one can be told."""
        planted = "import time\nasync def v():\n    time.sleep(1)\n"
        write(self.root, {"pitfalls/wrong.py": planted, "views.py": planted})
        matched: set[str] = set()

        findings = scan_tree(
            self.root,
            exclude=["app/pitfalls/*", "pitfalls/*"],
            shown_as="app/",
            matched=matched,
        )

        self.assertEqual([f.location for f in findings], ["views.py:3"])
        self.assertEqual(matched, {"app/pitfalls/*"})

    def test_results_are_sorted_by_file_then_line(self):
        write(
            self.root,
            {
                "z.py": "import time\nasync def v():\n    time.sleep(1)\n",
                "m.py": "async def f():\n    pass\n\n\n\n\n\n\n\n\n\nf()\nf()\n",
            },
        )

        self.assertEqual(
            [f.location for f in scan_tree(self.root)], ["m.py:12", "m.py:13", "z.py:3"]
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
        self.assertTrue(
            all(name.startswith(("wrong_", "Wrong")) for name in flagged), flagged
        )
        self.assertGreaterEqual(len(flagged), 12)  # recall on the known mistakes
