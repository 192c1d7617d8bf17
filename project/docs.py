"""Write each pair's sync → async diff into its pattern page, docs/patterns/<family>.md.

    python -m project.docs --write   # regenerate the diffs in place
    python -m project.docs --check   # exit 1, naming the stale pages

A page holds, for each pair of topics/views/<family>.py, a block

    <!-- diff:topic_list -->
    ```diff
    …generated…
    ```
    <!-- /diff -->

and, for a variant, `<!-- diff:topic_list:native -->`: the diff from the twin of
the variant's mode to the variant. Under an async view's diff, a line says what
copying it takes: the kits it needs, whole, and the definitions beyond them
(project.copydrag). A page may also show a helper pair the views
call, named by its sync half's dotted path: `<!-- diff:topics.pagination.page_data -->`
diffs page_data() to apage_data(). The diffs are made from the source
(inspect.getsource), so a page never shows code the project no longer runs.
"""

import argparse
import difflib
import importlib
import inspect
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import django

from project import copydrag

BASE_DIR = Path(__file__).resolve().parent.parent
PAGES = BASE_DIR / "docs" / "patterns"
# What --check reports about a page, after its name.
STALE = "stale diffs; run python -m project.docs --write"
NO_MARKER = "no <!-- diff:{key} --> marker"
UNKNOWN = "<!-- diff:{key} --> names no pair, variant or helper pair"
BLOCK = re.compile(r"(<!-- diff:([\w.:]+) -->\n)(.*?)(<!-- /diff -->)", re.S)


@dataclass(frozen=True)
class Diff:
    """One generated block: its marker key, its page and its text."""

    key: str  # "topic_list", or "topic_list:native" for a variant
    page: Path
    text: str  # the fenced ```diff block, ending in a newline


def source_of(view: object) -> str:
    """A view's source: a class-based view's class, else the function behind it."""
    from topics.registry import view_function

    view_class = getattr(inspect.unwrap(view), "view_class", None)
    return inspect.getsource(view_class or view_function(view))


def family_of(view: object) -> str:
    """The family a view belongs to: its module's name under topics/views/."""
    from topics.registry import view_function

    view_class = getattr(inspect.unwrap(view), "view_class", None)
    return (view_class or view_function(view)).__module__.rpartition(".")[2]


def diff(before: object, after: object) -> str:
    """A fenced unified diff from one view's source to another's, whole views shown."""
    from topics.registry import view_name

    old = source_of(before).splitlines(keepends=True)
    new = source_of(after).splitlines(keepends=True)
    lines = difflib.unified_diff(
        old,
        new,
        fromfile=view_name(before),
        tofile=view_name(after),
        n=max(len(old), len(new)),
    )
    return "```diff\n" + "".join(lines) + "```\n"


def diffs(pages: Path = PAGES) -> list[Diff]:
    """Every block the pages in `pages` must hold, in registry order."""
    from topics.pairs import PAIRS

    index = copydrag.Index()
    result = []
    for pair in PAIRS:
        page = pages / f"{family_of(pair.sync_view)}.md"
        text = diff(pair.sync_view, pair.async_view)
        result.append(Diff(pair.name, page, text + copy_note(pair.async_view, index)))
        for variant in pair.variants:
            twin = pair.sync_view if variant.mode == "sync" else pair.async_view
            text = diff(twin, variant.view)
            if variant.mode == "async":
                text += copy_note(variant.view, index)
            result.append(Diff(f"{pair.name}:{variant.name}", page, text))
    return result


def _file_link(module: str) -> str:
    path = module.replace(".", "/") + ".py"
    return f"[`{path}`](../../{path})"


def copy_note(view: object, index: "copydrag.Index") -> str:
    """What copying an async view takes, as a paragraph: the kits it needs
    (whole files, once per project) and the definitions it names beyond them,
    by file, with their lines (models and forms aside: your app has its own)."""
    from topics.registry import view_name

    module, name = copydrag.view_location(view)
    row = copydrag.measure(index, module, name, kits=copydrag.KITS)
    beyond: dict[str, list[str]] = {}
    for dotted in row.definitions:
        owner, _, definition = dotted.rpartition(".")
        if owner not in copydrag.KITS:
            beyond.setdefault(owner, []).append(f"`{definition}`")
    files = [f"from {_file_link(m)} {', '.join(names)}" for m, names in beyond.items()]
    if row.kits:
        kits = ", ".join(_file_link(kit) for kit in row.kits)
        them = "them" if len(row.kits) > 1 else "it"
        taken = f"the kit{'s' * (len(row.kits) > 1)} {kits} (whole, once per project)"
        taken += f" and {row.beyond} lines beyond {them}"
    else:
        taken = f"no kit and {row.beyond} lines"
    rest = f": {'; '.join(files)}" if files else ""
    return f"\n**Copying `{view_name(view)}`** takes {taken}{rest}.\n"


def helper_diff(path: str) -> str:
    """The diff from a helper, by dotted path, to its async twin `a<name>` beside it.

    Raises LookupError when the module or either half does not exist.
    """
    module_name, _, name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        return diff(getattr(module, name), getattr(module, f"a{name}"))
    except (ImportError, AttributeError, ValueError) as error:
        raise LookupError(path) from error


def render(page: str, wanted: dict[str, str]) -> tuple[str, list[str], list[str]]:
    """The page with its diff blocks replaced; the wanted keys it has no marker
    for; the keys of its markers that name nothing (helper pairs are looked up)."""
    found, unknown = set(), []

    def replace(match: re.Match) -> str:
        opening, key, _, closing = match.groups()
        if key in wanted:
            found.add(key)
            return opening + wanted[key] + closing
        try:
            if "." not in key:
                raise LookupError(key)
            return opening + helper_diff(key) + closing
        except LookupError:
            unknown.append(key)
            return match.group(0)

    return BLOCK.sub(replace, page), sorted(set(wanted) - found), unknown


def stale_pages(pages: Path = PAGES, *, write: bool = False) -> list[str]:
    """What is wrong with the pages, one line each, the page named first.

    With write, a stale diff is rewritten rather than reported; a missing page
    or marker is reported either way: where a pair's section goes is prose.
    """
    by_page: dict[Path, dict[str, str]] = {}
    for block in diffs(pages):
        by_page.setdefault(block.page, {})[block.key] = block.text
    problems = []
    for page, wanted in by_page.items():
        name = page.relative_to(pages.parent.parent)
        if not page.exists():
            problems.append(f"{name}: missing; it must hold {', '.join(wanted)}")
            continue
        current = page.read_text()
        updated, missing, unknown = render(current, wanted)
        problems += [f"{name}: {NO_MARKER.format(key=key)}" for key in missing]
        problems += [f"{name}: {UNKNOWN.format(key=key)}" for key in unknown]
        if updated == current:
            continue
        if write:
            page.write_text(updated)
            print(f"{name}: diffs rewritten")
        else:
            problems.append(f"{name}: {STALE}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Write or check the pages: 1 when a problem remains, else 0."""
    parser = argparse.ArgumentParser(prog="python -m project.docs")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite stale diffs")
    mode.add_argument("--check", action="store_true", help="fail on stale pages")
    parser.add_argument("--pages", type=Path, default=PAGES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    django.setup()

    problems = stale_pages(args.pages, write=args.write)

    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
