import sys
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from project.demo.seeding import (
    seed_bookmarks,
    seed_demo_exports,
    seed_demo_user,
    seed_editor_user,
    seed_topics,
)
from topics.models import Topic


class Command(BaseCommand):
    help = "Create demo topics topic-1 … topic-N (idempotent: existing ones are kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--topics", type=int, default=1000, metavar="N")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has topics.",
        )

    def handle(
        self, *, topics: int, batch_size: int, if_empty: bool, **options
    ) -> None:
        if topics < 0 or batch_size < 1:
            raise CommandError("--topics must be >= 0 and --batch-size >= 1.")
        if seed_demo_user():
            self.stdout.write('Created the user "demo" (password "demo").')
        if seed_editor_user():
            self.stdout.write('Created the user "editor" (password "editor").')
        if if_empty and Topic.objects.exists():
            self.stdout.write("Topics exist already; nothing to seed.")
        else:
            self.seed(topics, batch_size, quiet=options["verbosity"] == 0)
        if bookmarks := seed_bookmarks():
            self.stdout.write(f"Created {bookmarks} demo bookmarks.")
        if made := seed_demo_exports():
            self.stdout.write(f"Wrote the demo exports: {', '.join(made)}.")

    def seed(self, topics: int, batch_size: int, *, quiet: bool) -> None:
        started = time.perf_counter()
        with tqdm(total=topics, unit="topic", file=sys.stderr, disable=quiet) as bar:
            created = seed_topics(
                count=topics, batch_size=batch_size, progress=bar.update
            )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Created {created} of {topics} demo topics in {elapsed:.1f} s."
        )
