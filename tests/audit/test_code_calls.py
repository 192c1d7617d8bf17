"""Calls followed out of async code into the project's sync functions, relations
read after an async load, lazy QuerySets handed back by sync_to_async."""

import tempfile
import textwrap
from pathlib import Path
from unittest import TestCase

from topics.audit.code import scan_source, scan_trees
from topics.audit.code.calls import DEPTH


def scan(source: str) -> list:
    return scan_source(textwrap.dedent(source), "app/views.py")


class CallFollowingTests(TestCase):
    def test_a_middleware_helper_reading_request_user_is_reported_at_the_call(self):
        findings = scan(
            """
            class TagMiddleware:
                async def __acall__(self, request):
                    request.tag = self.tag(request)
                    return await self.get_response(request)

                def tag(self, request):
                    return f"user-{request.user.pk}"
            """
        )
        [finding] = findings
        self.assertEqual(finding.location, "app/views.py:4")
        self.assertEqual((finding.code, finding.level), ("code.sync-orm", "warning"))
        self.assertEqual(
            finding.message,
            "self.tag(...) is sync code called on the event loop in async def "
            "TagMiddleware.__acall__() (tag() → request.user): request.user loads "
            "the user lazily, a sync query, in def TagMiddleware.tag() "
            "(app/views.py:8).",
        )
        self.assertEqual(
            finding.fix,
            "Await sync_to_async(self.tag)(...) for the whole unit of work, or make "
            "it async: Use user = await request.auser() instead.",
        )

    def test_calls_between_packages_scanned_together_are_followed(self):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            for name, text in {
                "shop/__init__.py": "",
                "shop/views.py": """
                    from core.services import place_order

                    async def checkout(request):
                        place_order(request.POST["item"])
                """,
                "core/__init__.py": "",
                "core/services.py": """
                    from core import mail

                    def place_order(item):
                        mail.confirm(item)

                    def unused():
                        pass
                """,
                "core/mail.py": """
                    from django.core.mail import get_connection
                    import smtplib, time

                    def confirm(item):
                        time.sleep(1)
                """,
            }.items():
                (root / name).parent.mkdir(exist_ok=True)
                (root / name).write_text(textwrap.dedent(text))

            findings = scan_trees([(root / "shop", "shop/"), (root / "core", "core/")])

        [finding] = findings
        self.assertEqual(finding.location, "shop/views.py:5")
        self.assertEqual(finding.code, "code.blocking-call")
        self.assertIn("(place_order() → confirm() → time.sleep(...))", finding.message)
        self.assertIn("(core/mail.py:6)", finding.message)

    def test_chains_are_followed_so_deep_and_no_deeper(self):
        def chain(length: int) -> str:
            defs = "".join(f"def f{i}():\n    f{i + 1}()\n\n" for i in range(1, length))
            return (
                f"import time\n\nasync def view(request):\n    f1()\n\n{defs}"
                f"def f{length}():\n    time.sleep(1)\n"
            )

        self.assertEqual(len(scan_source(chain(DEPTH), "v.py")), 1)
        self.assertEqual(scan_source(chain(DEPTH + 1), "v.py"), [])

    def test_recursion_generators_and_wrapped_helpers_are_not_findings(self):
        findings = scan(
            """
            import time
            from asgiref.sync import sync_to_async

            async def view(request):
                ping(3)
                rows(3)
                await threaded()
                await sync_to_async(slow)()

            def ping(n):
                return pong(n - 1) if n else 0

            def pong(n):
                return ping(n)

            def rows(n):
                time.sleep(1)
                yield n

            @sync_to_async
            def threaded():
                time.sleep(1)

            def slow():
                time.sleep(1)
            """
        )
        self.assertEqual(findings, [])

    def test_a_hint_in_a_helper_is_not_carried_to_its_callers(self):
        """Info findings (a relation perhaps prefetched) stay where they are."""
        findings = scan(
            """
            async def view(request, topic):
                card(topic)

            def card(topic):
                return [t.title for t in topic.author.topics.all()]
            """
        )
        self.assertEqual(findings, [])

    def test_an_ignore_comment_at_the_call_site_silences_it(self):
        findings = scan(
            """
            import time

            async def view(request):
                nap()  # async-audit: ignore[code.blocking-call]

            def nap():
                time.sleep(1)
            """
        )
        self.assertEqual(findings, [])

    def test_a_method_of_a_loaded_instance_is_followed(self):
        findings = scan(
            """
            from django.db import models

            class Topic(models.Model):
                def bump(self):
                    Topic.objects.filter(pk=self.pk).update(views=1)

            async def view(request, pk):
                topic = await Topic.objects.aget(pk=pk)
                topic.bump()
            """
        )
        [finding] = findings
        self.assertEqual(finding.location, "app/views.py:10")
        self.assertIn(
            "(bump() → Topic.objects.filter(...).update(...))", finding.message
        )


class RelationTests(TestCase):
    MODELS = """
        from django.db import models

        class Author(models.Model):
            name = models.CharField(max_length=10)

        class Book(models.Model):
            author = models.ForeignKey(Author, on_delete=models.CASCADE)
            editor = models.ForeignKey(Author, null=True, on_delete=models.SET_NULL)
    """

    def test_a_relation_read_after_aget_is_an_error_with_the_fix(self):
        findings = scan(
            self.MODELS
            + """
        async def view(request, pk):
            book = await Book.objects.select_related("editor").aget(pk=pk)
            return (book.author.name, book.editor.name, book.author_id)
            """
        )
        [finding] = findings
        self.assertEqual((finding.code, finding.level), ("code.sync-orm", "error"))
        self.assertEqual(
            finding.message,
            "book.author loads the related author with a sync query in async def "
            "view(): Book is loaded here without select_related('author'), so it "
            "raises SynchronousOnlyOperation (unless the key is null).",
        )
        self.assertEqual(
            finding.fix,
            "Add .select_related('author') to the query that loads it, or read "
            "author_id if the key is all you need.",
        )

    def test_an_instance_from_elsewhere_or_a_plain_field_is_not_reported(self):
        findings = scan(
            self.MODELS
            + """
        async def view(request, book):
            other = await Book.objects.aget(pk=1)
            return (book.author.name, other.pk, other.editor_id)
            """
        )
        self.assertEqual(findings, [])

    def test_formatting_an_instance_whose_str_reads_a_relation(self):
        findings = scan(
            self.MODELS
            + """
            def __str__(self):
                return f"{self.author} and {self.title}"

        async def view(request, pk):
            book = await Book.objects.aget(pk=pk)
            chosen = await Book.objects.select_related("author").aget(pk=pk)
            return f"{book}", str(chosen)
            """
        )
        [finding] = findings
        self.assertEqual(finding.location, "app/views.py:17")
        self.assertEqual(
            finding.message,
            'f"{book}" calls Book.__str__(), which reads self.author: a sync query '
            "in async def view(), as Book is loaded here without "
            "select_related('author').",
        )


class LazyResultTests(TestCase):
    def test_a_helper_returning_a_queryset_through_sync_to_async(self):
        findings = scan(
            """
            from asgiref.sync import sync_to_async

            async def view(request):
                return [n async for n in await sync_to_async(pinned)()]

            def pinned():
                return Note.objects.filter(pinned=True)
            """
        )
        [finding] = findings
        self.assertEqual((finding.code, finding.level), ("code.sync-orm", "warning"))
        self.assertIn(
            "sync_to_async(pinned) returns the lazy Note.objects.filter(...)",
            finding.message,
        )


class ManagerMethodTests(TestCase):
    def test_what_a_querying_manager_method_returns_is_no_queryset(self):
        """create_user() returns a user: testing it for truth runs no query."""
        findings = scan(
            """
            async def view(request):
                user = User.objects.create_user("ada")
                if user:
                    return user.pk
            """
        )
        self.assertEqual(
            [(f.location, f.level) for f in findings], [("app/views.py:3", "warning")]
        )


class ConditionalChainTests(TestCase):
    def test_each_conditional_step_lowers_the_level_once(self):
        findings = scan(
            """
            import time

            async def view(request):
                always()
                sometimes(request)
                rarely(request)

            def always():
                time.sleep(1)

            def sometimes(request):
                if request.GET:
                    time.sleep(1)

            def rarely(request):
                if request.GET:
                    sometimes(request)
            """
        )
        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [
                ("app/views.py:5", "error"),
                ("app/views.py:6", "warning"),
                ("app/views.py:7", "info"),  # two conditions away: a hint
            ],
        )


class ProjectClassTests(TestCase):
    def test_a_method_of_an_instance_built_here_is_followed(self):
        findings = scan(
            """
            import time

            class Service:
                def __init__(self, request):
                    self.request = request

                def run(self):
                    time.sleep(1)

            async def view(request):
                service = Service(request)
                service.run()
                Service(request).run()
            """
        )
        self.assertEqual(
            [f.location for f in findings], ["app/views.py:13", "app/views.py:14"]
        )
        self.assertIn("(run() → time.sleep(...))", findings[1].message)
