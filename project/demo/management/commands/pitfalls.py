import posixpath

from django.core.management.base import BaseCommand

from topics.pitfalls.catalogue import PITFALLS


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


class Command(BaseCommand):
    help = "Print docs/pitfalls.md's pitfall table, generated from the catalogue."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--page",
            default="docs/pitfalls.md",
            help="The page the table is pasted into: its links are relative to it.",
        )

    def handle(self, **options) -> None:
        folder = posixpath.dirname(options["page"]) or "."
        self.stdout.write("| # | Pitfall | Symptom | Fix | Test |")
        self.stdout.write("| --- | --- | --- | --- | --- |")
        for pitfall in PITFALLS:
            fix = pitfall.fix + (f" *{pitfall.versions}*" if pitfall.versions else "")
            path, _, name = pitfall.test.partition("::")
            test = f"[{name.rpartition('::')[2]}]({posixpath.relpath(path, folder)})"
            self.stdout.write(
                f"| {pitfall.number} | {_cell(pitfall.title)} "
                f"| {_cell(pitfall.symptom)} | {_cell(fix)} | {test} |"
            )
