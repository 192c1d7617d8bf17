from django.apps import AppConfig


class TopicsConfig(AppConfig):
    name = "topics"

    def ready(self) -> None:
        from django.core import checks as django_checks

        from topics import (
            checks,  # noqa: F401 -- registers the pair checks
            signals,  # noqa: F401 -- connects the receivers
        )
        from topics.hopfree import check_deploy

        # Django's deploy checks, seeing the hop-free drop-ins as its own.
        django_checks.register(check_deploy, django_checks.Tags.security, deploy=True)
