"""The bench's settings with no middleware at all: Django's bare request cost."""

from project.bench.settings_default import *  # noqa: F403

MIDDLEWARE: list[str] = []
