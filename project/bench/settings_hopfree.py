"""The bench's settings with the hop-free drop-ins for Django's seven: the
project's own stack, the same classes as settings_default, one for one."""

from project import settings as project_settings
from project.bench.settings_default import *  # noqa: F403

MIDDLEWARE = project_settings.MIDDLEWARE
