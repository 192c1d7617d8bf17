from django.core.management.base import BaseCommand

from topics.pairs import PAIRS
from topics.registry import view_function


def _source(view) -> str:
    path = view_function(view).__module__.replace(".", "/") + ".py"
    return f"[{path}]({path})"


class Command(BaseCommand):
    help = "Print the README's table of pairs, generated from the registry."

    def handle(self, **options) -> None:
        self.stdout.write("| Pair | File | Sync view | Async view | Lesson |")
        self.stdout.write("| --- | --- | --- | --- | --- |")
        for pair in PAIRS:
            self.stdout.write(
                f"| `{pair.name}` | {_source(pair.sync_view)} "
                f"| `{pair.sync_view.__name__}` | `{pair.async_view.__name__}` "
                f"| {pair.lesson} |"
            )
            for variant in pair.variants:
                sync_name, async_name = (
                    (variant.view.__name__, "") if variant.mode == "sync"
                    else ("", variant.view.__name__)
                )  # fmt: skip
                self.stdout.write(
                    f"| ↳ `/{variant.mode}-{variant.name}/` | {_source(variant.view)} "
                    f"| {sync_name and f'`{sync_name}`'} "
                    f"| {async_name and f'`{async_name}`'} | {variant.lesson} |"
                )
