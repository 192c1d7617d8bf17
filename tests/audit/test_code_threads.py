"""Threads and start-up: thread-sensitive deadlocks, queries at import time or in
AppConfig.ready(), loop tasks nobody keeps, the ORM in unmanaged threads."""

import textwrap
from unittest import TestCase

from topics.audit.code import scan_source
from topics.audit.findings import Finding


def scan(source: str, path: str = "x.py") -> list[Finding]:
    return scan_source(textwrap.dedent(source), path)


def found(findings: list[Finding]) -> list[tuple[int, str, str]]:
    """(line, code, level) of each finding."""
    return [(f.line, f.code, f.level) for f in findings]


class ThreadDeadlockTests(TestCase):
    def test_a_wait_whose_waker_is_thread_sensitive_too_is_an_error(self):
        findings = scan(
            """
            import asyncio, queue
            from asgiref.sync import sync_to_async

            results = queue.Queue()

            def produce():
                results.put(1)

            async def view(request):
                task = asyncio.ensure_future(sync_to_async(produce)())
                data = await sync_to_async(results.get)()
                await task
            """
        )

        self.assertEqual(found(findings), [(12, "code.thread-deadlock", "error")])
        message = findings[0].message
        self.assertIn("sync_to_async(results.get) waits on results.get()", message)
        self.assertIn("results.put() that would end the wait is queued", message)
        self.assertIn("await asyncio.to_thread(results.get)", findings[0].fix)
        self.assertIn("thread_sensitive=False", findings[0].fix)

    def test_a_wait_alone_is_a_warning_and_its_twins_are_quiet(self):
        findings = scan(
            """
            import asyncio, threading
            from asgiref.sync import sync_to_async

            ready = threading.Event()
            cache = {}

            def wait_ready():
                ready.wait()

            async def view(request):
                await sync_to_async(wait_ready)()
                await sync_to_async(ready.wait)(timeout=1)
                await sync_to_async(ready.wait, thread_sensitive=False)()
                await asyncio.to_thread(ready.wait)
                await sync_to_async(cache.get)("k")
                await sync_to_async(Report.objects.get)(pk=1)
            """
        )

        self.assertEqual(found(findings), [(12, "code.thread-deadlock", "warning")])
        self.assertIn("(in wait_ready)", findings[0].message)
        self.assertIn("every other thread-sensitive call", findings[0].message)

    def test_a_name_bound_to_something_else_too_is_not_a_primitive(self):
        findings = scan(
            """
            import queue
            from asgiref.sync import sync_to_async

            def a():
                jobs = queue.Queue()

            async def b(jobs):
                await sync_to_async(jobs.get)()
            """
        )

        self.assertEqual(findings, [])


class StartupQueryTests(TestCase):
    def test_ready_queries_and_signals_only(self):
        findings = scan(
            """
            from django.apps import AppConfig
            from django.db.models.signals import post_save

            class ShopConfig(AppConfig):
                def ready(self):
                    post_save.connect(handler)
                    self.names = list(Setting.objects.all())

                    def later():
                        return Setting.objects.count()
            """,
            "shop/apps.py",
        )

        self.assertEqual(found(findings), [(8, "code.startup-query", "warning")])
        self.assertEqual(
            findings[0].message.split(":")[0],
            "list(Setting.objects.all()) queries in ShopConfig.ready(), at every start",
        )
        self.assertIn("keep AppConfig.ready() to connecting signals", findings[0].fix)

    def test_module_level_of_a_form_and_lazy_or_callable_choices(self):
        findings = scan(
            """
            from django import forms

            class F(forms.Form):
                a = forms.ChoiceField(choices=[(c.pk, c) for c in Cat.objects.all()])
                b = forms.ModelChoiceField(queryset=Cat.objects.all())
                c = forms.ChoiceField(choices=cat_choices)
            """,
            "shop/forms.py",
        )

        self.assertEqual(found(findings), [(5, "code.startup-query", "warning")])
        self.assertIn(
            "at import time (module level of shop/forms.py)", findings[0].message
        )
        self.assertIn("choices=a_function, Django 5.0+", findings[0].fix)

    def test_scripts_tests_and_guarded_queries_are_not_start_up(self):
        script = """
            import django
            django.setup()
            print(Cat.objects.count())
            """
        self.assertEqual(scan(script, "tools/load.py"), [])
        self.assertEqual(scan("N = Cat.objects.count()\n", "shop/tests/test_x.py"), [])
        self.assertEqual(
            scan("N = Cat.objects.count()\n", "shop/management/commands/c.py"), []
        )
        guarded = """
            try:
                N = Cat.objects.count()
            except Exception:
                N = 0
            """
        self.assertEqual(scan(guarded, "shop/urls.py"), [])
        self.assertEqual(len(scan("N = Cat.objects.count()\n", "shop/helpers.py")), 1)


class BackgroundWorkTests(TestCase):
    def test_loop_tasks_and_executor_work_let_go(self):
        findings = scan(
            """
            import asyncio

            async def view(request):
                loop = asyncio.get_running_loop()
                loop.create_task(notify())
                asyncio.get_running_loop().create_task(notify())
                loop.run_in_executor(None, work)
                await loop.run_in_executor(None, work)
                scheduler.create_task(notify())

            async def forgotten():
                task = asyncio.create_task(notify())
                return 1

            async def held():
                task = asyncio.create_task(notify())
                await asyncio.sleep(1)
            """
        )

        self.assertEqual(
            found(findings),
            [
                (6, "code.dropped-task", "warning"),
                (7, "code.dropped-task", "warning"),
                (8, "code.dropped-task", "warning"),
                (13, "code.dropped-task", "warning"),
            ],
        )
        self.assertIn("its exceptions are lost", findings[2].message)
        self.assertIn("await loop.run_in_executor(...)", findings[2].fix)
        self.assertIn("assigned to task, which is never read", findings[3].message)

    def test_the_orm_in_threads_django_does_not_manage(self):
        findings = scan(
            """
            import asyncio
            from asgiref.sync import sync_to_async
            from django.db import close_old_connections

            def mark_paid(pk):
                Order.objects.filter(pk=pk).update(paid=True)

            def closes(pk):
                Order.objects.filter(pk=pk).update(paid=True)
                close_old_connections()

            def digest(data):
                return hash(data)

            async def view(request):
                await asyncio.to_thread(mark_paid, 1)
                await asyncio.to_thread(Order.objects.count)
                await sync_to_async(mark_paid, thread_sensitive=False)(1)
                await sync_to_async(mark_paid)(1)
                await asyncio.to_thread(closes, 1)
                await asyncio.to_thread(digest, b"")

            @sync_to_async(thread_sensitive=False)
            def count():
                return Order.objects.count()
            """
        )

        self.assertEqual(
            found(findings),
            [
                (17, "code.sync-orm", "warning"),
                (18, "code.sync-orm", "warning"),
                (19, "code.sync-orm", "warning"),
                (24, "code.sync-orm", "warning"),
            ],
        )
        self.assertIn(
            "asyncio.to_thread() runs mark_paid (Order.objects.filter(...)"
            ".update(...)), a query, in a thread whose database connection Django "
            "never closes",
            findings[0].message,
        )
        self.assertIn("await sync_to_async(mark_paid)(...)", findings[0].fix)
        self.assertIn("django.db.close_old_connections()", findings[0].fix)
        self.assertIn("runs count (Order.objects.count())", findings[3].message)
