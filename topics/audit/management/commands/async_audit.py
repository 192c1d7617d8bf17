"""`manage.py async_audit`: what stands between this project and async views.

Add "topics.audit" to INSTALLED_APPS: it reads the middleware, the URLconfs, the
settings and the project's own source (see topics.audit.scope). It runs no
system check and opens no database connection, so a project whose checks fail,
or whose database is down, is audited all the same.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from topics.audit.cli import add_arguments, failing
from topics.audit.output import render
from topics.audit.project import audit_project


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
        exclude = [*getattr(settings, "ASYNC_AUDIT_EXCLUDE", []), *options["exclude"]]
        report = audit_project(
            exclude=exclude, server=options["server"], urlconfs=options["urlconf"]
        )
        self.stdout.write(render(report, options["format"]))
        level = options["fail_level"]
        if found := failing(report.findings, level):
            raise CommandError(
                f"{len(found)} finding(s) at level {level} or above.", returncode=1
            )
