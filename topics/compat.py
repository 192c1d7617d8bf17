"""What differs between the supported Django lines, 5.2 LTS and 6.1, in one place."""

try:
    from django.core.paginator import AsyncPaginator
except ImportError:  # Django < 6.0
    AsyncPaginator = None

try:
    from django.db.models import FETCH_RAISE
except ImportError:  # Django < 6.1
    FETCH_RAISE = None

__all__ = ["FETCH_RAISE", "AsyncPaginator"]
