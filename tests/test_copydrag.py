"""The copy-drag script counts what a copied view pulls in, and the target holds."""

import json
import tempfile
import textwrap
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path

from django.test import SimpleTestCase

from project import copydrag

FIXTURE = {
    "shop/__init__.py": "",
    "shop/models.py": """\
        class Item:
            pass
    """,
    "shop/errors.py": """\
        import json

        CODE = "bad"


        class Bad(Exception):
            code = CODE


        def unused():
            return 1
    """,
    "shop/helpers.py": """\
        from django.http import JsonResponse

        from shop import errors
        from shop.models import Item

        LIMIT = 10


        def cap(value):
            return min(value, LIMIT)


        def fail():
            raise errors.Bad()
    """,
    "shop/views/__init__.py": "",
    "shop/views/items.py": """\
        from asgiref.sync import sync_to_async

        from ..helpers import cap as limit, fail
        from shop.models import Item


        def _shared(value):
            return limit(value)


        async def aitems(request):
            if not request:
                fail()
            return Item, _shared(3), aitems


        def lonely(request, fail=None):
            # Parameters, variables and comprehension targets are the
            # function's own, whatever module name they shadow.
            limit = [_shared for _shared in ()]
            return fail, limit
    """,
}


def write_fixture(root: Path) -> None:
    for name, source in FIXTURE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))


class CopyDragTests(SimpleTestCase):
    def setUp(self) -> None:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.root = Path(directory.name)
        write_fixture(self.root)
        self.index = copydrag.Index(
            self.root, packages=["shop"], excluded=["shop.models"]
        )

    def test_drag_follows_imports_transitively_and_counts_lines(self) -> None:
        """Relative, aliased and module imports resolve; models, libraries and
        the view itself are not counted."""
        row = copydrag.measure(self.index, "shop.views.items", "aitems")

        self.assertEqual(
            row.definitions,
            (
                "shop.errors.Bad",
                "shop.errors.CODE",
                "shop.helpers.LIMIT",
                "shop.helpers.cap",
                "shop.helpers.fail",
                "shop.views.items._shared",
            ),
        )
        # Bad 2, CODE 1, LIMIT 1, cap 2, fail 2, _shared 2.
        self.assertEqual(row.lines, 10)

    def test_what_lies_in_a_kit_counts_in_lines_not_beyond(self) -> None:
        """A kit is copied once per project: the view's own drag leaves it out
        and names it instead."""
        row = copydrag.measure(
            self.index, "shop.views.items", "aitems", kits=["shop.errors"]
        )

        self.assertEqual(row.kits, ("shop.errors",))
        self.assertEqual((row.lines, row.beyond), (10, 7))

    def test_a_view_with_no_project_reference_drags_nothing(self) -> None:
        """Only what the source names is counted; local names shadow the module's."""
        row = copydrag.measure(self.index, "shop.views.items", "lonely")

        self.assertEqual(row.definitions, ())
        self.assertEqual(row.lines, 0)


class CommandTests(SimpleTestCase):
    def run_command(self, *args: str) -> tuple[int, str]:
        out = StringIO()
        with redirect_stdout(out), redirect_stderr(StringIO()):
            code = copydrag.main(list(args))
        return code, out.getvalue()

    def test_json_lists_every_async_side_of_the_registry(self):
        """One row per async twin and variant, with its definitions and lines."""
        code, out = self.run_command("--json")

        report = json.loads(out)
        views = {row["view"]: row for row in report["views"]}
        self.assertEqual(code, 0)
        self.assertIn("atopic_detail", views)
        self.assertIn("atopic_list_native", views)
        self.assertNotIn("topic_detail", views)
        self.assertIn(
            "topics.payloads.topic_payload", views["atopic_detail"]["definitions"]
        )
        self.assertEqual(report["max_lines"], max(v["lines"] for v in views.values()))
        self.assertEqual(views["atopic_detail"]["kits"], ["topics.api"])
        self.assertLess(
            views["atopic_detail"]["beyond"], views["atopic_detail"]["lines"]
        )
        self.assertEqual(set(report["kit_lines"]), set(copydrag.KITS))

    def test_a_target_exceeded_exits_1(self):
        """--max and --median (and their -beyond forms, for the drag outside
        the kits) fail the command when the drag is above them."""
        codes = [
            self.run_command(flag, "0")[0]
            for flag in ("--max", "--median", "--max-beyond", "--median-beyond")
        ]
        within, _ = self.run_command(
            *("--max", "100000", "--median", "100000"),
            *("--max-beyond", "100000", "--median-beyond", "100000"),
        )

        self.assertEqual((codes, within), ([1, 1, 1, 1], 0))


class KitListTests(SimpleTestCase):
    def test_the_guide_lists_every_kit(self) -> None:
        """docs/guide.md's "What to copy" links each kit: a new one is announced."""
        guide = (copydrag.ROOT / "docs" / "guide.md").read_text()
        for kit in copydrag.KITS:
            with self.subTest(kit=kit):
                self.assertIn(f"(../{kit.replace('.', '/')}.py)", guide)


class CopyDragCeilingTests(SimpleTestCase):
    """What a copied async view drags along: the target, and a ceiling.

    Beyond the kits (what each view costs once the kits it needs are in the
    app), issue 21's target holds: a median of at most 60 lines, none over 120.
    All of it, kits' definitions included (what the first copied view costs),
    stays far above that: a JSON error decorator alone is 62 lines. That figure
    has a ceiling at today's numbers, so a change that makes a view drag more
    fails here; lower it as the drag falls.
    """

    MEDIAN_BEYOND_TARGET = 60
    MAX_BEYOND_TARGET = 120
    MEDIAN_CEILING = 166.5
    MAX_CEILING = 422

    def test_beyond_the_kits_the_target_holds(self) -> None:
        rows = copydrag.registry_rows()

        over = {r.view: r.beyond for r in rows if r.beyond > self.MAX_BEYOND_TARGET}
        self.assertLessEqual(copydrag.median_beyond(rows), self.MEDIAN_BEYOND_TARGET)
        self.assertEqual(over, {})

    def test_the_whole_drag_does_not_grow(self) -> None:
        rows = copydrag.registry_rows()

        over = {row.view: row.lines for row in rows if row.lines > self.MAX_CEILING}
        self.assertLessEqual(copydrag.median_lines(rows), self.MEDIAN_CEILING)
        self.assertEqual(over, {})
