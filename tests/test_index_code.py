"""The index page's side-by-side code: the twins' source, read when the page is."""

import importlib
import inspect
import sys
import tempfile
import textwrap
from pathlib import Path

from django.test import SimpleTestCase

from project.demo.views import card, side_by_side, view_source
from topics.pairs import PAIRS


class TwinCodeTests(SimpleTestCase):
    def test_every_pair_shows_both_twins_whole_source(self):
        """The two columns are the two views' source, line for line, in order."""
        for pair in PAIRS:
            with self.subTest(pair=pair.name):
                rows = card(pair).code
                sync = [row.sync for row in rows if row.sync is not None]
                async_ = [row.async_ for row in rows if row.async_ is not None]

                self.assertEqual(sync, view_source(pair.sync_view).splitlines())
                self.assertEqual(async_, view_source(pair.async_view).splitlines())
                name = pair.twins()[1].view_name
                self.assertRegex("\n".join(async_), rf"(def|class) {name}\b")

    def test_only_the_lines_that_differ_are_changed(self):
        """difflib pairs equal lines, and marks replaced, added and removed ones."""
        rows = side_by_side(
            "def f():\n    x = g()\n    return x",
            "async def af():\n    x = await ag()\n    log(x)\n    return x",
        )

        self.assertEqual(
            [(row.sync, row.async_, row.changed) for row in rows],
            [
                ("def f():", "async def af():", True),
                ("    x = g()", "    x = await ag()", True),
                (None, "    log(x)", True),
                ("    return x", "    return x", False),
            ],
        )

    def test_source_is_read_at_request_time(self):
        """An edited view shows its new code without a restart."""
        with tempfile.TemporaryDirectory() as folder:
            module = Path(folder) / "edited_view.py"
            module.write_text("def view(request):\n    return 1\n")
            sys.path.insert(0, folder)
            self.addCleanup(sys.path.remove, folder)
            self.addCleanup(sys.modules.pop, "edited_view", None)
            view = importlib.import_module("edited_view").view

            before = view_source(view)
            module.write_text("def view(request):\n    return 2  # edited\n")
            after = view_source(view)

        self.assertEqual(before, "def view(request):\n    return 1")
        self.assertEqual(after, "def view(request):\n    return 2  # edited")

    def test_class_based_twins_show_their_whole_class(self):
        """A class-based view's card shows the class, not only its get()."""
        pair = next(pair for pair in PAIRS if pair.name == "topic_detail_view")
        view_class = inspect.unwrap(pair.async_view).view_class

        self.assertEqual(
            view_source(pair.async_view),
            textwrap.dedent(inspect.getsource(view_class)).rstrip("\n"),
        )
