"""What every page's layout (topics/base.html) reads: as real apps write it."""

from django.http import HttpRequest

from topics.models import Tag

TAG_MENU_SIZE = 5


def layout(request: HttpRequest) -> dict:
    """{"tag_menu": the most used tags}: a QuerySet, run where the template reads it."""
    return {"tag_menu": Tag.objects.with_topic_counts()[:TAG_MENU_SIZE]}
