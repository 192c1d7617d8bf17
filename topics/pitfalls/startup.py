"""Pitfalls of start-up: a query while the app loads.

INSTALLED_APPS may name WrongTopicsConfig, so this module imports no model at
its top: models load after every app config.
"""

import functools

from django.apps import AppConfig, apps

from topics.pitfalls.registry import Pitfall

# As topics.pitfalls.orm's, which this module cannot import: it imports models.
SYNC_ONLY_MESSAGE = (
    "You cannot call this from an async context - use a thread or sync_to_async."
)

# 28. A query in AppConfig.ready() or at URLconf import.


class WrongTopicsConfig(AppConfig):
    """Read every topic's slug once, while the app loads."""

    name = "topics"

    def ready(self) -> None:
        # uvicorn --workers/--reload load the app inside the event loop.
        Topic = self.get_model("Topic")
        self.topic_slugs = frozenset(Topic.objects.values_list("slug", flat=True))


@functools.cache
def topic_slugs() -> frozenset[str]:
    """See WrongTopicsConfig; read by the first request that asks, then kept.

    Call it from a view: directly in a sync one, through sync_to_async() in an
    async one. Follows "Avoid interacting with the database in your ready()
    implementation" (Django's docs, Applications: AppConfig.ready()).
    """
    Topic = apps.get_model("topics", "Topic")
    return frozenset(Topic.objects.values_list("slug", flat=True))


TEST = "tests/pitfalls/test_startup.py::"

PITFALLS = [
    Pitfall(
        number=28,
        slug="query-at-startup",
        title="A query in `AppConfig.ready()` or at URLconf import",
        symptom="In `ready()`: `uvicorn --workers`/`--reload` import the app "
        "inside the event loop, so each worker dies with `SynchronousOnlyOperation: "
        f"{SYNC_ONLY_MESSAGE}` and is restarted, for ever; the port refuses "
        "connections (plain `uvicorn` and gunicorn import it before: they start, "
        "with Django's `RuntimeWarning: Accessing the database during app "
        "initialization is discouraged...`). At URLconf import: the first request "
        "of each process answers 500 with that error, later ones 200 (Django's "
        "500 handler imported the URLconf again, in a thread)",
        fix="No query in `ready()` or at import: read at first use, in a request "
        "(a cached function the view calls).",
        wrong=WrongTopicsConfig,
        right=topic_slugs,
        test=TEST
        + "StartupQueryTests::test_a_query_at_startup_fails_one_at_first_use_serves",
    ),
]
