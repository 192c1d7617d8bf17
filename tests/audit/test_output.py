"""The report's formats: ruff-like text, JSON as its schema documents it, SARIF
as the official SARIF 2.1.0 schema requires, GitHub annotations."""

import json
import re
import tempfile
from dataclasses import replace
from pathlib import Path

import jsonschema
from django.test import SimpleTestCase

from tests.audit.hosts import ENTRY_POINTS, audit, build_host
from topics.audit.codes import CODES
from topics.audit.findings import Finding, Report
from topics.audit.output import REPORT_SCHEMA, render

# Vendored from the OASIS repository: see sarif/README.md beside it.
SARIF_SCHEMA = json.loads(
    (Path(__file__).parent / "sarif" / "sarif-schema-2.1.0.json").read_text()
)
SCHEMA = json.loads(REPORT_SCHEMA.read_text())

IN_CODE = Finding(
    "error",
    "code.sync-orm",
    "code",
    "shop/views.py:8",
    "Iterating Item.objects.all() runs a sync query.",
    "Iterate with async for.",
    column=36,
)
IN_SETTINGS_FILE = Finding(
    "warning",
    "settings.no-pool",
    "settings",
    "host/settings.py:42",
    "PostgreSQL without a pool.",
)
IN_NO_FILE = Finding(
    "info",
    "settings.cache-hops",
    "settings",
    "CACHES['default']",
    "LocMemCache's async API runs the sync one in a thread.",
    "Cache whole results.",
)
REPORT = Report([IN_NO_FILE, IN_CODE, IN_SETTINGS_FILE], scanned=["shop/"])


def validate(document: object, schema: dict) -> None:
    """Raise jsonschema's ValidationError unless `document` fits `schema`."""
    jsonschema.validators.validator_for(schema)(schema).validate(document)


class FormatTests(SimpleTestCase):
    def test_text_is_one_line_per_finding_as_ruff_prints_them(self):
        """path:line:col: level code message, the fix indented below; files
        first, in order, then the findings in no file; then the counts."""
        text = render(REPORT, "text").splitlines()

        # What was scanned heads the report; the findings follow.
        self.assertEqual(text[:3], ["Scanned: shop/", "", "Findings"])
        self.assertEqual(
            text[3:],
            [
                "host/settings.py:42: warning settings.no-pool "
                "PostgreSQL without a pool.",
                "shop/views.py:8:36: error code.sync-orm "
                "Iterating Item.objects.all() runs a sync query.",
                "    fix: Iterate with async for.",
                "CACHES['default']: info settings.cache-hops "
                "LocMemCache's async API runs the sync one in a thread.",
                "    fix: Cache whole results.",
                "",
                "1 info, 1 warning, 1 error",
            ],
        )

    def test_json_fits_its_schema_and_a_file_is_path_line_col(self):
        """A finding in a file has path, line, col; one in no file has them
        null and keeps its target; chain is an empty list for now."""
        report = json.loads(render(REPORT, "json"))

        validate(report, SCHEMA)
        by_code = {f["code"]: f for f in report["findings"]}
        self.assertEqual(
            [
                (f["path"], f["line"], f["col"], f["location"], f["chain"])
                for f in by_code.values()
            ],
            [
                (None, None, None, "CACHES['default']", []),
                ("shop/views.py", 8, 36, "shop/views.py:8", []),
                ("host/settings.py", 42, None, "host/settings.py:42", []),
            ],
        )
        self.assertEqual(report["summary"], {"info": 1, "warning": 1, "error": 1})

    def test_json_paths_are_from_the_current_directory(self):
        """Locations relative to the project's root are printed from here."""
        report = json.loads(render(REPORT, "json", root=Path("project")))

        self.assertEqual(report["findings"][1]["path"], "project/shop/views.py")

    def test_sarif_fits_the_official_schema(self):
        """One run, one rule per code with its help; a finding in a file has
        a relative URI with a base id, line and column; one in no file a
        logical location, on the anchor file when there is one."""
        for anchor in (None, Path("host/settings.py")):
            with self.subTest(anchor=anchor):
                log = json.loads(render(REPORT, "sarif", anchor=anchor))

                validate(log, SARIF_SCHEMA)
                [run] = log["runs"]
                rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
                self.assertEqual(
                    rules["code.sync-orm"]["help"], {"text": "Iterate with async for."}
                )
                self.assertEqual(
                    rules["code.sync-orm"]["shortDescription"]["text"],
                    CODES["code.sync-orm"],
                )
                results = {r["ruleId"]: r for r in run["results"]}
                self.assertEqual(
                    results["code.sync-orm"]["locations"][0]["physicalLocation"],
                    {
                        "artifactLocation": {
                            "uri": "shop/views.py",
                            "uriBaseId": "%SRCROOT%",
                        },
                        "region": {"startLine": 8, "startColumn": 36},
                    },
                )
                self.assertEqual(
                    [r["level"] for r in run["results"]], ["note", "error", "warning"]
                )
                [no_file] = results["settings.cache-hops"]["locations"]
                self.assertEqual(
                    no_file["logicalLocations"],
                    [{"fullyQualifiedName": "CACHES['default']", "kind": "variable"}],
                )
                self.assertEqual(anchor is None, "physicalLocation" not in no_file)

    def test_github_annotates_any_finding_in_a_file(self):
        """A settings file's finding lands on its line too, with no column;
        one in no file names its target in the text."""
        lines = render(REPORT, "github").splitlines()

        self.assertEqual(
            [line.split("::")[1] for line in lines],
            # The text report's order: files and lines, then the rest.
            [
                "warning file=host/settings.py,line=42,title=settings.no-pool",
                "error file=shop/views.py,line=8,col=36,title=code.sync-orm",
                "notice title=settings.cache-hops",
            ],
        )
        self.assertIn("::CACHES['default']: LocMemCache", lines[2])
        # A message that names its target already is not prefixed twice.
        named = replace(IN_NO_FILE, message="CACHES['default']: LocMemCache's API.")
        [line] = render(Report([named]), "github").splitlines()
        self.assertEqual(line.count("CACHES['default']"), 1, line)

    def test_every_code_in_the_source_is_described(self):
        """A code added to a module but not to CODES would be an unknown
        prefix in select and a rule without a description in SARIF."""
        package = Path(__file__).parents[2] / "topics" / "audit"
        source = "\n".join(
            path.read_text()
            for path in package.rglob("*.py")
            if path.name != "codes.py"
        )
        used = set(
            re.findall(
                r'"((?:code|middleware|urls|settings|import|config)\.[a-z-]+)"',
                source,
            )
        )

        self.assertEqual(used - set(CODES), set())


class FormatEndToEndTests(SimpleTestCase):
    """Each format from both entry points, on a generated host project."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.root = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        build_host(cls.root)

    def test_json_and_sarif_fit_their_schemas(self):
        """Both entry points print JSON that fits report.schema.json and SARIF
        that fits SARIF 2.1.0, the settings' finding anchored on settings.py."""
        for name, entry in ENTRY_POINTS.items():
            with self.subTest(name):
                as_json = audit(self.root, "--format", "json", entry=entry)
                sarif = audit(self.root, "--format", "sarif", entry=entry)

                validate(json.loads(as_json.stdout), SCHEMA)
                validate(log := json.loads(sarif.stdout), SARIF_SCHEMA)
                uris = {
                    result["ruleId"]: result["locations"][0]["physicalLocation"][
                        "artifactLocation"
                    ]["uri"]
                    for result in log["runs"][0]["results"]
                }
                self.assertEqual(uris["code.sync-orm"], "shop/views.py")
                self.assertEqual(uris["settings.conn-max-age"], "host/settings.py")

    def test_django_defaults_drop_ins_are_told_at_the_middleware_line(self):
        """startproject's MIDDLEWARE: middleware.hopfree-available in every
        format, on the settings line that lists the middleware."""
        settings_file = (self.root / "host" / "settings.py").read_text()
        line = settings_file.splitlines().index("MIDDLEWARE = [") + 1
        code = "middleware.hopfree-available"

        text = audit(self.root, "--select", code).stdout
        as_json = json.loads(audit(self.root, "--format", "json").stdout)
        sarif = json.loads(audit(self.root, "--format", "sarif").stdout)

        self.assertRegex(
            text, rf"host/settings\.py:{line}:\d+: info {code} 7 of Django's default"
        )
        [found] = [f for f in as_json["findings"] if f["code"] == code]
        self.assertEqual(
            (found["path"], found["line"], found["target"]),
            ("host/settings.py", line, "MIDDLEWARE"),
        )
        [run] = sarif["runs"]
        [result] = [r for r in run["results"] if r["ruleId"] == code]
        where = result["locations"][0]["physicalLocation"]
        self.assertEqual(
            (where["artifactLocation"]["uri"], where["region"]["startLine"]),
            ("host/settings.py", line),
        )
        self.assertEqual(result["level"], "note")
        self.assertIn(
            "→ topics.hopfree.CsrfViewMiddleware (3)", result["message"]["text"]
        )

    def test_an_error_exits_1_by_default_and_a_run_below_it_0(self):
        """--fail-level is error unless told: the sync ORM call fails the run,
        --fail-level is not needed; the same run with the errors ignored
        passes."""
        for name, entry in ENTRY_POINTS.items():
            with self.subTest(name):
                failed = audit(self.root, entry=entry)
                passed = audit(
                    self.root, "--ignore", "code,settings.conn-max-age", entry=entry
                )

                self.assertEqual(failed.returncode, 1, failed.stderr)
                self.assertIn("shop/views.py:8:36: error code.sync-orm ", failed.stdout)
                self.assertEqual(passed.returncode, 0, passed.stderr)

    def test_paths_are_from_the_current_directory(self):
        """Run from a folder above the project, the paths start with the
        project's folder, so that they still open in an editor."""
        above = audit(
            self.root.parent,
            f"{self.root.name}/manage.py",
            "async_audit",
            "--format",
            "json",
            entry=[],
        )

        paths = {f["path"] for f in json.loads(above.stdout)["findings"]}
        self.assertIn(f"{self.root.name}/shop/views.py", paths)
