"""ASGI entry point: Django's handler, wrapped so the lifespan protocol is answered."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

django_application = get_asgi_application()

# Imported after Django is set up: the lifespan contexts may import models.
from project.guard import RequestGuardMiddleware, RequestIdMiddleware  # noqa: E402
from project.lifespan import LifespanMiddleware  # noqa: E402

# Outermost first: the lifespan, then the request id (so that even a refused
# request carries one), then the guard that refuses bodies before Django reads.
application = LifespanMiddleware(
    RequestIdMiddleware(
        RequestGuardMiddleware(
            django_application,
            max_body_size=settings.REQUEST_BODY_MAX_SIZE,
            body_timeout=settings.REQUEST_BODY_TIMEOUT,
            send_timeout=settings.RESPONSE_SEND_TIMEOUT,
        )
    ),
    settings.ASGI_LIFESPAN,
)
