"""What differs between the supported Django lines, 5.2 LTS and 6.1, in one place."""

from typing import Any

import django

try:
    from django.core.paginator import AsyncPaginator
except ImportError:  # Django < 6.0
    AsyncPaginator = None

try:
    from django.db.models import FETCH_RAISE
except ImportError:  # Django < 6.1
    FETCH_RAISE = None

# Django 6.1 configures email in MAILERS and deprecates the EMAIL_* settings
# (RemovedInDjango2028Warning); 5.2 has no MAILERS.
HAS_MAILERS = django.VERSION >= (6, 1)
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def smtp_settings(*, host: str, port: int, timeout: float) -> dict[str, Any]:
    """The settings that send email through the SMTP server at host:port.

    On 6.1 one MAILERS["default"] entry; on 5.2 EMAIL_BACKEND, EMAIL_HOST,
    EMAIL_PORT and EMAIL_TIMEOUT (seconds per socket operation: without it a
    mail server that stops answering holds the sender forever).
    Source: Django 6.1's MAILERS setting (django.core.mail.handler); EMAIL_TIMEOUT.
    """
    if HAS_MAILERS:
        options = {"host": host, "port": port, "timeout": timeout}
        return {"MAILERS": {"default": {"BACKEND": SMTP_BACKEND, "OPTIONS": options}}}
    return {
        "EMAIL_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": host,
        "EMAIL_PORT": port,
        "EMAIL_TIMEOUT": timeout,
    }


__all__ = [
    "FETCH_RAISE",
    "HAS_MAILERS",
    "AsyncPaginator",
    "smtp_settings",
]
