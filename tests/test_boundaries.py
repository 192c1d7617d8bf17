"""The folders say what is a pattern and what is a tool, and the imports agree.

`topics/` is the patterns app a reader copies from. The tools around it — the
audit and the hop-free drop-ins (installable, under `topics/` for their import
path), the benchmark (`project/bench/`) and the demo harness with its fake
upstream (`project/demo/`) — must not reach into the patterns, or copying a
tool would drag the demo along (and the reverse: a pattern must not need a tool).
"""

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

from project.copydrag import KITS

BASE_DIR = Path(settings.BASE_DIR)


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in a file, relative imports resolved."""
    package = ".".join(path.relative_to(BASE_DIR).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            yield node.lineno, base
            # `from topics import views` imports topics.views.
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def is_under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def violations(folder: str, allowed: tuple[str, ...], forbidden: tuple[str, ...]):
    """Imports of a forbidden package (unless allowed) by the files of a folder."""
    found = []
    for path in sorted((BASE_DIR / folder).rglob("*.py")):
        for line, module in imported_modules(path):
            if is_under(module, *forbidden) and not is_under(module, *allowed):
                found.append(f"{path.relative_to(BASE_DIR)}:{line}: {module}")
    return found


def kit_violations(kit: str) -> list[str]:
    """What a kit module imports that would not travel with it."""
    path = BASE_DIR / f"{kit.replace('.', '/')}.py"
    folder = kit.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
            relative = False
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            relative = node.level > 0
            if relative:
                parts = kit.split(".")[: -node.level]
                base = ".".join([*parts, base] if base else parts)
            modules = [base]
        else:
            continue
        for module in modules:
            beside = relative and module.rpartition(".")[0] == folder
            own = is_under(module, "topics", "project")
            if is_under(module, "django.conf") or (
                own and not (beside and module in KITS)
            ):
                found.append(f"{kit}:{node.lineno}: {module}")
    return found


TOOLS = ("topics.audit", "topics.hopfree", "project.bench", "project.demo")


class BoundaryTests(SimpleTestCase):
    def test_the_audit_imports_nothing_of_the_project(self) -> None:
        # Installed into other projects: `topics` there holds only the audit
        # and the hop-free drop-ins (pyproject's packages).
        self.assertEqual(
            violations("topics/audit", ("topics.audit",), ("topics", "project")), []
        )

    def test_the_hop_free_drop_ins_import_nothing_of_the_project(self) -> None:
        self.assertEqual(
            violations("topics/hopfree", ("topics.hopfree",), ("topics", "project")),
            [],
        )

    def test_the_bench_reads_only_the_registry(self) -> None:
        self.assertEqual(
            violations(
                "project/bench", ("topics.pairs", "topics.registry"), ("topics",)
            ),
            [],
        )

    def test_the_fake_upstream_imports_nothing_of_the_project(self) -> None:
        self.assertEqual(
            [
                f"project/demo/upstream.py:{line}: {module}"
                for line, module in imported_modules(
                    BASE_DIR / "project/demo/upstream.py"
                )
                if is_under(module, "topics", "project")
            ],
            [],
        )

    def test_the_patterns_need_no_tool(self) -> None:
        found = [
            f
            for f in violations("topics", (), TOOLS)
            if not f.startswith(("topics/audit/", "topics/hopfree/"))
        ]
        self.assertEqual(found, [])

    def test_each_kit_needs_only_libraries_and_kits_beside_it(self) -> None:
        """A kit is copied whole into another project: anything of this one it
        imported, or a setting it read, would have to come along. Another kit
        it may import, relatively and from its own folder (`from .api import
        ApiError`): kits copied side by side into one package need no edit."""
        self.assertEqual([f for kit in KITS for f in kit_violations(kit)], [])

    def test_each_kit_imports_in_a_bare_project(self) -> None:
        """Settings with nothing configured but Django's auth apps, none of
        this project's, and (but for the tasks switch) no django-tasks
        backport: each kit still imports."""
        for kit in KITS:
            blocked = [] if kit == "topics.tasks_compat" else ["django_tasks"]
            code = (
                "import sys, django; from django.conf import settings; "
                f"sys.modules.update(dict.fromkeys({blocked!r})); "
                "settings.configure(INSTALLED_APPS=["
                "'django.contrib.auth', 'django.contrib.contenttypes']); "
                f"django.setup(); import {kit}"
            )
            with self.subTest(kit=kit):
                result = subprocess.run(
                    [sys.executable, "-c", code],
                    cwd=BASE_DIR,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                self.assertEqual((result.returncode, result.stderr), (0, ""))

    def test_a_kit_importing_the_project_is_seen(self) -> None:
        path = BASE_DIR / "var" / "kit_probe" / "probe.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.addCleanup(path.unlink)
        path.write_text(
            "from django.conf import settings\n"
            "from topics.api import ApiError\n"
            "from .api import ApiError\n"  # beside it, but not a kit
            "import json\n"
        )
        self.assertEqual(
            kit_violations("var.kit_probe.probe"),
            [
                "var.kit_probe.probe:1: django.conf",
                "var.kit_probe.probe:2: topics.api",
            ],
        )
        self.assertEqual(kit_violations("topics.streaming"), [])

    def test_a_hand_written_violation_is_seen(self) -> None:
        # The scan itself: a planted import of the patterns from a tool.
        path = BASE_DIR / "var" / "boundary_probe" / "probe.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.addCleanup(path.unlink)
        path.write_text("from topics.api import ApiError\nfrom . import sibling\n")
        self.assertEqual(
            violations("var/boundary_probe", (), ("topics",)),
            [
                "var/boundary_probe/probe.py:1: topics.api",
                "var/boundary_probe/probe.py:1: topics.api.ApiError",
            ],
        )
        self.assertIn((2, "var.boundary_probe.sibling"), list(imported_modules(path)))
