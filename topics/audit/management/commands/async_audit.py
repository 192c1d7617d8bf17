"""`manage.py async_audit`: what stands between this project and async views.

Add "topics.audit" to INSTALLED_APPS: it reads the middleware, the URLconfs, the
settings and the project's own source (see topics.audit.scope). It runs no
system check and opens no database connection, so a project whose checks fail,
or whose database is down, is audited all the same.
"""

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from topics.audit.cli import add_arguments, conclude, configure
from topics.audit.config import UsageError
from topics.audit.project import audit_project
from topics.audit.scope import project_root


class Command(BaseCommand):
    # The host's own checks (an unrelated failing one, a database that is not
    # there) must not stop the audit: it reads code and settings only.
    requires_system_checks = []
    requires_migrations_checks = False

    help = (
        "Audit the project for async: middleware modes and hops, sync and async "
        "views, risky settings, and blocking or unawaited calls in the code."
    )

    def add_arguments(self, parser) -> None:
        add_arguments(parser)

    def handle(self, *args, **options) -> None:
        base = project_root(settings)
        try:
            config = configure(
                options, start=base, setting=getattr(settings, "ASYNC_AUDIT", None)
            )
            exclude = [*getattr(settings, "ASYNC_AUDIT_EXCLUDE", []), *config.exclude]
            report = audit_project(
                exclude=exclude,
                server=options["server"],
                urlconfs=options["urlconf"],
            )
            outcome = conclude(
                report,
                config,
                fmt=options["format"],
                write_baseline=options["write_baseline"],
                root=base,
                anchor=_settings_file(),
            )
        except UsageError as error:
            # As argparse does for a bad option: status 2, not a failed audit's 1.
            raise CommandError(str(error), returncode=2) from None
        self.stdout.write(outcome.output)
        if outcome.status:
            raise CommandError(
                f"Findings at level {config.fail_level} or above.", returncode=1
            )


def _settings_file() -> Path | None:
    module = sys.modules.get(settings.SETTINGS_MODULE or "")
    file = getattr(module, "__file__", None)
    return Path(file) if file else None
