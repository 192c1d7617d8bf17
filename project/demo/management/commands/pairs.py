import inspect
from pathlib import PurePosixPath

from django.core.management.base import BaseCommand

from topics.pairs import PAIRS
from topics.registry import view_function, view_name


def _path(view) -> str:
    """The file a view is written in, from the repository's root."""
    # A class-based view's module is its class's: ListView's get() is Django's.
    view_class = getattr(inspect.unwrap(view), "view_class", None)
    return (view_class or view_function(view)).__module__.replace(".", "/") + ".py"


def _page(view, anchor: str) -> str:
    """The pattern page's section: docs/patterns/<family>.md, one per views module."""
    return f"docs/patterns/{PurePosixPath(_path(view)).stem}.md#{anchor}"


class Command(BaseCommand):
    help = "Print the README's table of pairs, generated from the registry."

    def handle(self, **options) -> None:
        self.stdout.write("| Pair | File | Sync view | Async view | Lesson |")
        self.stdout.write("| --- | --- | --- | --- | --- |")
        for pair in PAIRS:
            # A pair's section is headed by its name, a variant's by its view's.
            path = _path(pair.sync_view)
            self.stdout.write(
                f"| [`{pair.name}`]({_page(pair.sync_view, pair.name)}) "
                f"| [{path}]({path}) "
                f"| `{view_name(pair.sync_view)}` | `{view_name(pair.async_view)}` "
                f"| {pair.lesson} |"
            )
            for variant in pair.variants:
                name = view_name(variant.view)
                sync_name, async_name = (
                    (name, "") if variant.mode == "sync" else ("", name)
                )  # fmt: skip
                path = _path(variant.view)
                self.stdout.write(
                    f"| [↳ `/{variant.mode}-{variant.name}/`]"
                    f"({_page(variant.view, name.lower())}) | [{path}]({path}) "
                    f"| {sync_name and f'`{sync_name}`'} "
                    f"| {async_name and f'`{async_name}`'} | {variant.lesson} |"
                )
