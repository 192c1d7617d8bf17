"""Delete what ages out: old exports, abandoned temporaries, expired keys."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from topics.exportfiles import stale_files
from topics.exports import export_folder
from topics.models import IdempotencyKey


class Command(BaseCommand):
    help = (
        "Delete exports older than EXPORT_MAX_AGE, temporary export files idle "
        "for EXPORT_TEMPORARY_MAX_AGE, and Idempotency-Keys older than "
        "IDEMPOTENCY_KEY_MAX_AGE (seconds, all three). Run it from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would go; delete nothing."
        )

    def handle(self, *, dry_run: bool, **options) -> None:
        files = stale_files(
            export_folder().root,
            export_max_age=settings.EXPORT_MAX_AGE,
            temporary_max_age=settings.EXPORT_TEMPORARY_MAX_AGE,
        )
        keys = IdempotencyKey.objects.expired()
        verb = "Would delete" if dry_run else "Deleted"
        for path in files:
            if not dry_run:
                path.unlink(missing_ok=True)
            self.stdout.write(f"{verb} {path.name}")
        # Nothing references a key: delete()'s total is the keys deleted.
        count = keys.count() if dry_run else keys.delete()[0]
        self.stdout.write(f"{verb} {len(files)} files and {count} idempotency keys.")
