"""What every page's layout (topics/base.html) reads: as real apps write it, and
loaded up front for an async view that renders with no query."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest

from topics.models import Tag, Topic

TAG_MENU_SIZE = 5
RECENT_TOPICS = 3


def tag_menu() -> QuerySet:
    """The most used tags, as {"name", "topics_count"} rows."""
    return Tag.objects.with_topic_counts()[:TAG_MENU_SIZE]


def recent_topics() -> QuerySet:
    """The newest topics, as list rows: the layout's sidebar."""
    return Topic.objects.listing()[:RECENT_TOPICS]


def layout(request: HttpRequest) -> dict:
    """{"tag_menu": the most used tags}: a QuerySet, run where the template reads it."""
    return {"tag_menu": tag_menu()}


async def aload_layout(request: HttpRequest) -> dict:
    """Everything topics/base.html reads, loaded: {"user", "tag_menu", "recent_topics"}.

    Put it in the context of a render() run on the event loop: the view's keys
    hide the context processors' lazy values (`user`, `tag_menu`), and the
    {% recent_topics %} tag uses the rows given. Five queries for a logged-in
    user (session, user, user with profile, tags, topics), two for a visitor.
    """
    user = await request.auser()
    if user.is_authenticated:
        # auser() loads the user alone; the layout reads user.profile too. A
        # user without a profile is loaded as having none: no query later.
        users = get_user_model()._default_manager.select_related("profile")
        user = await users.aget(pk=user.pk)
    return {
        "user": user,
        "tag_menu": [tag async for tag in tag_menu()],
        "recent_topics": [topic async for topic in recent_topics()],
    }
