"""The layout's inclusion tag: it queries, as real apps' sidebars do."""

from django import template

from topics.models import Topic

register = template.Library()


@register.inclusion_tag("topics/recent_topics.html")
def recent_topics(count: int = 3) -> dict:
    """The `count` newest topics as list rows: a query, where the tag renders."""
    return {"recent": list(Topic.objects.listing()[:count])}
