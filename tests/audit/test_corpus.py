"""The corpus: one small app per kind of hazard, planted lines and controls marked.

Each folder under corpus/ is an app of its own, scanned as a tree (so a call
from views.py into services.py is followed as it would be in a project). A
planted line ends with `# planted: <code>` (or `# planted: <code> (warning)`,
the level when not error); a correct control line ends with `# control`.

Recall: the share of planted lines reported with their code. Precision: the
share of warnings and errors that fall on a planted line with its code. Info
findings are hints, not claims, and are not counted.
"""

import re
from pathlib import Path
from unittest import TestCase

from topics.audit.code import scan_tree

CORPUS = Path(__file__).parent / "corpus"
PLANTED = re.compile(r"# planted: (code\.[a-z-]+)(?: \((\w+)\))?\s*$")
CONTROL = re.compile(r"# control\s*$")
# The kinds of issue 17, one app each (the folder names).
KINDS = [
    "k01_calls",
    "k02_bridges",
    "k03_validation",
    "k04_streaming",
    "k05_deadlocks",
    "k06_startup",
    "k07_background",
    "k08_relations",
    "k09_lazy_results",
    "k10_cache",
    "k11_blocking",
    "k12_class_views",
    "k13_kept_coroutines",
]
RECALL = 0.95
PRECISION = 1.0


def marked(app: Path) -> tuple[dict[tuple[str, int], tuple[str, str]], set]:
    """(path, line) -> (code, level) of each planted line; the control lines."""
    planted: dict[tuple[str, int], tuple[str, str]] = {}
    controls: set[tuple[str, int]] = set()
    for path in sorted(app.rglob("*.py")):
        relative = path.relative_to(app).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if match := PLANTED.search(line):
                planted[relative, number] = (match.group(1), match.group(2) or "error")
            elif CONTROL.search(line):
                controls.add((relative, number))
    return planted, controls


def score(app: Path) -> dict[str, list]:
    """What the scan of one app found against its markers."""
    planted, controls = marked(app)
    reported = [f for f in scan_tree(app) if f.level in ("warning", "error")]
    found = {
        (f.path, f.line)
        for f in reported
        if planted.get((f.path, f.line)) == (f.code, f.level)
    }
    wrong = [f for f in reported if planted.get((f.path, f.line)) != (f.code, f.level)]
    return {
        "planted": list(planted),
        "found": list(found),
        "missed": [
            f"{p}:{n} {planted[p, n]}" for p, n in planted if (p, n) not in found
        ],
        "wrong": [f"{f.location} {f.code} ({f.level}): {f.message}" for f in wrong],
        "on_controls": [f.location for f in wrong if (f.path, f.line) in controls],
        "reported": reported,
    }


def corpus_apps() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_dir() and p.name[0] not in "._")


class CorpusTests(TestCase):
    def test_every_kind_has_an_app_with_a_planted_case_and_a_control(self):
        for kind in KINDS:
            with self.subTest(kind=kind):
                self.assertIs((CORPUS / kind).is_dir(), True, f"no corpus app {kind}")
                planted, controls = marked(CORPUS / kind)
                self.assertTrue(planted, f"{kind}: no planted line")
                self.assertTrue(controls, f"{kind}: no control line")

    def test_markers_sit_on_lines_with_code(self):
        """A marker on a line of closing brackets is where ruff format moved it,
        not where the finding is: write the statement on one line."""
        for path in sorted(CORPUS.rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#")[0].strip()
                if (PLANTED.search(line) or CONTROL.search(line)) and not code.strip(
                    ")]}(,"
                ):
                    self.fail(f"{path.relative_to(CORPUS)}:{number}: {line.strip()}")

    def test_recall_and_precision_over_the_corpus(self):
        scores = {app.name: score(app) for app in corpus_apps()}
        planted = sum(len(s["planted"]) for s in scores.values())
        found = sum(len(s["found"]) for s in scores.values())
        reported = sum(len(s["reported"]) for s in scores.values())
        right = reported - sum(len(s["wrong"]) for s in scores.values())
        recall = found / planted if planted else 0.0
        precision = right / reported if reported else 1.0
        report = "\n".join(
            f"{name}: {len(s['found'])}/{len(s['planted'])} found"
            + "".join(f"\n  missed {m}" for m in s["missed"])
            + "".join(f"\n  wrong  {w}" for w in s["wrong"])
            for name, s in scores.items()
        )
        self.assertGreater(planted, 0)
        self.assertGreaterEqual(recall, RECALL, f"recall {recall:.0%}\n{report}")
        self.assertGreaterEqual(
            precision, PRECISION, f"precision {precision:.0%}\n{report}"
        )

    def test_no_finding_on_a_control_line(self):
        for app in corpus_apps():
            with self.subTest(app=app.name):
                self.assertEqual(score(app)["on_controls"], [])
