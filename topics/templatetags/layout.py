"""The layout's inclusion tag: it queries, as real apps' sidebars do, unless the
view loaded its rows (topics.context_processors.aload_layout)."""

from django import template
from django.template import Context

from topics.context_processors import recent_topics as recent_topics_rows

register = template.Library()


@register.inclusion_tag("topics/recent_topics.html", takes_context=True)
def recent_topics(context: Context) -> dict:
    """The newest topics: the context's "recent_topics" list, else a query here."""
    rows = context.get("recent_topics")
    return {"recent": list(recent_topics_rows()) if rows is None else rows}
