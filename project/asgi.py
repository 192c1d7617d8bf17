"""ASGI entry point: Django's handler, wrapped so the lifespan protocol is answered."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

django_application = get_asgi_application()

# Imported after Django is set up: the lifespan contexts may import models.
from project.lifespan import LifespanMiddleware  # noqa: E402

application = LifespanMiddleware(django_application, settings.ASGI_LIFESPAN)
