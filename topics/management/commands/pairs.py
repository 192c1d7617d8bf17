import inspect

from django.core.management.base import BaseCommand

from topics.pairs import PAIRS
from topics.registry import view_function, view_name


def _source(view) -> str:
    # A class-based view's module is its class's: ListView's get() is Django's.
    view_class = getattr(inspect.unwrap(view), "view_class", None)
    path = (view_class or view_function(view)).__module__.replace(".", "/") + ".py"
    return f"[{path}]({path})"


class Command(BaseCommand):
    help = "Print the README's table of pairs, generated from the registry."

    def handle(self, **options) -> None:
        self.stdout.write("| Pair | File | Sync view | Async view | Lesson |")
        self.stdout.write("| --- | --- | --- | --- | --- |")
        for pair in PAIRS:
            self.stdout.write(
                f"| `{pair.name}` | {_source(pair.sync_view)} "
                f"| `{view_name(pair.sync_view)}` | `{view_name(pair.async_view)}` "
                f"| {pair.lesson} |"
            )
            for variant in pair.variants:
                sync_name, async_name = (
                    (view_name(variant.view), "") if variant.mode == "sync"
                    else ("", view_name(variant.view))
                )  # fmt: skip
                self.stdout.write(
                    f"| ↳ `/{variant.mode}-{variant.name}/` | {_source(variant.view)} "
                    f"| {sync_name and f'`{sync_name}`'} "
                    f"| {async_name and f'`{async_name}`'} | {variant.lesson} |"
                )
