"""The sync cache API, more blocking calls and sync ORM calls in async code, and
a coroutine kept in a name then read as a value: messages, fixes, look-alikes."""

import textwrap
from unittest import TestCase

import django

from topics.audit.code import scan_source
from topics.audit.findings import Finding


def scan(source: str) -> list[Finding]:
    return scan_source(textwrap.dedent(source), "snippet.py")


def found(source: str) -> list[tuple[int, str, str]]:
    """(line, level, code) of each finding, sorted."""
    return sorted((f.line, f.level, f.code) for f in scan(source))


class SyncCacheTests(TestCase):
    def test_the_django_cache_through_its_imports(self):
        findings = scan(
            """
            from django.core.cache import cache, caches
            from django.core.cache import cache as c

            async def view(request):
                a = cache.get("k")
                c.set("k", 1)
                caches["sessions"].delete("k")
                local = caches["throttle"]
                return local.incr("n"), a
            """
        )

        self.assertEqual(
            [(f.line, f.level, f.code) for f in findings],
            [(n, "warning", "code.sync-cache") for n in (6, 7, 8, 10)],
        )
        self.assertEqual(
            findings[0].message,
            "cache.get(...) is the sync cache API in async def view(): with Redis "
            "or Memcached it blocks the loop on the network.",
        )
        self.assertEqual(findings[0].fix, "await cache.aget(...) instead.")
        self.assertEqual(findings[3].fix, "await local.aincr(...) instead.")

    def test_the_async_api_and_look_alikes_are_quiet(self):
        self.assertEqual(
            found(
                """
                from django.core.cache import cache

                class Limiter:
                    async def allow(self, key):
                        return self.cache.get(key)

                async def view(request):
                    await cache.aget("k")
                    value = await cache.aget_or_set("k", 1)
                    return value

                async def shadowed(request, cache):
                    return cache.get("k")

                def sync_view(request):
                    return cache.get("k")
                """
            ),
            [],
        )

    def test_get_or_set_with_a_querying_callable_says_so(self):
        (finding,) = scan(
            """
            from django.core.cache import cache

            async def view(request):
                return cache.get_or_set("n", lambda: Note.objects.count(), 60)
            """
        )

        self.assertIn("Its default runs a sync query too.", finding.message)
        self.assertIn("aget_or_set() calls a callable default on the loop", finding.fix)


class BlockingCallTests(TestCase):
    def test_files_sockets_and_mail(self):
        self.assertEqual(
            found(
                """
                import os, shutil, socket, tempfile
                from pathlib import Path
                from django.conf import settings
                from django.core.mail import EmailMessage, send_mail

                DATA = Path(__file__).parent / "data"

                async def view(request):
                    Path("a.txt").read_text()
                    (settings.BASE_DIR / "x").write_bytes(b"")
                    DATA.mkdir()
                    os.remove("a")
                    shutil.rmtree("d")
                    tempfile.NamedTemporaryFile()
                    socket.create_connection(("h", 1))
                    send_mail("s", "m", "f", ["t"])
                    message = EmailMessage("s")
                    message.send()
                """
            ),
            [
                (10, "error", "code.blocking-call"),
                (11, "error", "code.blocking-call"),
                (12, "warning", "code.blocking-call"),
                (13, "warning", "code.blocking-call"),
                (14, "error", "code.blocking-call"),
                (15, "error", "code.blocking-call"),
                (16, "error", "code.blocking-call"),
                (17, "error", "code.blocking-call"),
                (19, "error", "code.blocking-call"),
            ],
        )

    def test_cheap_checks_and_other_paths_are_quiet(self):
        self.assertEqual(
            found(
                """
                import os
                from pathlib import Path, PurePath

                async def view(request, path):
                    os.path.exists("a")
                    Path("a").exists()
                    PurePath("a").with_suffix(".txt")
                    path.read_text()
                    request.POST.get("x")
                """
            ),
            [],
        )

    def test_path_fix_names_the_method(self):
        (finding,) = scan(
            """
            from pathlib import Path

            async def view(request):
                return Path("a.txt").read_text()
            """
        )

        self.assertEqual(
            finding.fix,
            "await asyncio.to_thread(Path(...).read_text, ...), or do the file "
            "work in one sync function run that way.",
        )

    def test_celery_tasks_signals_storage_and_loops(self):
        findings = scan(
            """
            import asyncio
            from celery import shared_task
            from django.core.files.storage import default_storage
            from django.db.models.signals import post_save
            from .tasks import work

            @shared_task
            def local(n):
                return n

            async def view(request):
                work.delay(1)
                local.apply_async((1,))
                post_save.send(sender=None)
                default_storage.save("a", None)
                asyncio.get_event_loop().run_until_complete(asyncio.sleep(0))
            """
        )

        self.assertEqual(
            [(f.line, f.level) for f in findings],
            [
                (13, "warning"),
                (14, "warning"),
                (15, "warning"),
                (16, "warning"),
                (17, "error"),
            ],
        )
        self.assertEqual(
            findings[0].fix,
            "Publishing to the broker is sync: await sync_to_async(work.delay)(...), "
            "or asyncio.to_thread().",
        )
        self.assertEqual(
            findings[2].fix,
            "await post_save.asend(...) (Django 5.0+): sync receivers then run in "
            "a thread.",
        )

    def test_django_tasks_sync_api_is_an_error_with_its_async_twin(self):
        findings = scan(
            """
            from django.tasks import task
            from .tasks import report

            @task
            def export(n):
                return n

            async def view(request, task_id):
                export.enqueue(1)
                report.get_result(task_id)
                await export.aenqueue(1)
            """
        )

        self.assertEqual(
            [(f.line, f.level) for f in findings], [(10, "error"), (11, "error")]
        )
        self.assertEqual(
            [f.fix for f in findings],
            [
                "await export.aenqueue(...) (Django 6.0; the django-tasks backport "
                "on 5.2).",
                "await report.aget_result(...) (Django 6.0; the django-tasks "
                "backport on 5.2).",
            ],
        )

    def test_aauthenticate_hashes_on_the_loop_before_django_6_1(self):
        """Pitfall 38: a warning on 5.2, nothing on 6.1, whose hash is threaded."""
        findings = scan(
            """
            from django.contrib.auth import aauthenticate

            async def view(request):
                return await aauthenticate(request, username="a", password="b")
            """
        )

        if django.VERSION < (6, 1):
            self.assertEqual([(f.line, f.level) for f in findings], [(5, "warning")])
            self.assertIn("hashes the password on the event loop", findings[0].message)
        else:
            self.assertEqual(findings, [])

    def test_an_enqueue_of_something_else_is_quiet(self):
        self.assertEqual(
            found(
                """
                from rq import Queue

                async def view(request, queue: Queue):
                    queue.enqueue(print, 1)
                """
            ),
            [],
        )

    def test_a_delay_of_something_else_is_quiet(self):
        self.assertEqual(
            found(
                """
                from .throttle import limiter

                async def view(request, websocket):
                    limiter.delay(5)
                    await websocket.send("x")
                """
            ),
            [],
        )


class SyncOrmMoreTests(TestCase):
    def test_auth_functions_are_errors_with_their_async_twin(self):
        findings = scan(
            """
            from django.contrib.auth import authenticate, login

            async def view(request):
                user = authenticate(request, username="a", password="b")
                login(request, user)
            """
        )

        self.assertEqual(
            [(f.line, f.level) for f in findings], [(5, "error"), (6, "error")]
        )
        self.assertEqual(
            findings[0].fix,
            "await aauthenticate(...) instead (django.contrib.auth, Django 5.0+).",
        )

    def test_manager_methods_that_query_and_those_that_do_not(self):
        self.assertEqual(
            found(
                """
                async def view(request):
                    User.objects.create_user("a", "b", "c")
                    User.objects.normalize_email("A@B")
                    Post.objects.published()
                    Post.objects.get_by_slug_queryset().filter(x=1)
                    await User.objects.acreate_user("a")
                """
            ),
            [(3, "warning", "code.sync-orm")],
        )

    def test_a_reverse_manager_follows_what_the_function_shows(self):
        self.assertEqual(
            found(
                """
                async def view(request, pk, other):
                    author = await Author.objects.aget(pk=pk)
                    author.book_set.count()
                    loaded = await Author.objects.prefetch_related("book_set").aget()
                    loaded.book_set.count()
                    other.book_set.exists()
                    author.book_set.filter(x=1).first()
                    seen_set = set()
                    seen_set.update([1])
                """
            ),
            [
                (4, "warning", "code.sync-orm"),
                (7, "info", "code.sync-orm"),
                (8, "warning", "code.sync-orm"),
            ],
        )


class KeptCoroutineTests(TestCase):
    def test_a_coroutine_in_a_response_or_a_context_is_reported(self):
        findings = scan(
            """
            from django.http import JsonResponse
            from django.shortcuts import render

            async def count(request):
                total = Note.objects.acount()
                return JsonResponse({"total": total})

            async def page(request):
                total = Note.objects.acount()
                context = {"total": total}
                return render(request, "x.html", context)
            """
        )

        self.assertEqual(
            [(f.line, f.code) for f in findings],
            [(6, "code.not-awaited"), (10, "code.not-awaited")],
        )
        self.assertIn(
            "JsonResponse() gets the coroutine object, not its result",
            findings[0].message,
        )
        self.assertEqual(
            findings[0].fix, "Await it: total = await Note.objects.acount()"
        )

    def test_handed_to_gather_a_loop_or_a_sync_caller_is_quiet(self):
        self.assertEqual(
            found(
                """
                import asyncio

                async def fetch(n):
                    return n

                async def view(request):
                    a = fetch(1)
                    b = fetch(2)
                    tasks = [a, b]
                    return await asyncio.gather(*tasks)

                async def inline(request):
                    a = fetch(1)
                    return await asyncio.gather(*[a])

                async def looped(request):
                    a = fetch(1)
                    for pending in [a]:
                        await pending

                def factory():
                    pending = Note.objects.acount()
                    return pending
                """
            ),
            [],
        )
