from django.core.management.base import BaseCommand

from topics.pitfalls.catalogue import PITFALLS


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


class Command(BaseCommand):
    help = "Print the README's pitfall table, generated from the catalogue."

    def handle(self, **options) -> None:
        self.stdout.write("| # | Pitfall | Symptom | Fix | Test |")
        self.stdout.write("| --- | --- | --- | --- | --- |")
        for pitfall in PITFALLS:
            fix = pitfall.fix + (f" *{pitfall.versions}*" if pitfall.versions else "")
            path, _, name = pitfall.test.partition("::")
            test = f"[{name.rpartition('::')[2]}]({path})"
            self.stdout.write(
                f"| {pitfall.number} | {_cell(pitfall.title)} "
                f"| {_cell(pitfall.symptom)} | {_cell(fix)} | {test} |"
            )
