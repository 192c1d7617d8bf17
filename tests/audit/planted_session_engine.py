"""Planted: a SESSION_ENGINE not Django's, whose store is built its own way."""

from django.contrib.sessions.backends import signed_cookies


class SessionStore(signed_cookies.SessionStore):
    """A third-party store: topics.hopfree cannot tell its __init__ does no I/O."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
