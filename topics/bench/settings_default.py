"""The project's settings, with the bench's trivial views routed."""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "topics.bench.urls"
