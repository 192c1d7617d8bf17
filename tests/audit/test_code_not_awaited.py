"""The code scan on coroutines: dropped, misused, or called without await."""

import ast
from unittest import TestCase

from tests.audit.code_support import scan
from topics.audit.code.scanner import Scanner


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
        self.assertIs(all(f.code == "code.not-awaited" for f in findings), True)

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
        self.assertIs(all(f.code == "code.not-awaited" for f in findings), True)
        self.assertLess(CountedBody.reads, 10)
