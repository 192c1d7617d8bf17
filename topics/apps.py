from django.apps import AppConfig


class TopicsConfig(AppConfig):
    name = "topics"

    def ready(self) -> None:
        from topics import (
            checks,  # noqa: F401 -- registers the pair checks
            signals,  # noqa: F401 -- connects the receivers
        )
