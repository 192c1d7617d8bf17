"""The code scan over a tree: workers for a large one, files it cannot read or
parse, the folders and globs it skips, results in file and line order."""

import os
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path
from unittest import TestCase, mock

from tests.audit.code_support import codes, scan
from topics.audit.code import files as code_files
from topics.audit.code import scan_tree


def write(root: Path, files: dict[str, str | bytes]) -> None:
    """Create files under root; str is written as UTF-8."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")


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
