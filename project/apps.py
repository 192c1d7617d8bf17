from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project's wiring: its system checks, beside the apps it installs."""

    name = "project"

    def ready(self) -> None:
        from django.core import checks as django_checks

        from project import checks  # noqa: F401 -- registers the database checks
        from topics.hopfree import check_deploy

        # Django's deploy checks, seeing the hop-free drop-ins as its own.
        django_checks.register(check_deploy, django_checks.Tags.security, deploy=True)
