"""Writes with rules, kept sync and called from sync views."""

from django.db import transaction

from .models import Topic


def publish_topic(*, title, slug):
    with transaction.atomic():
        topic = Topic.objects.create(title=title, slug=slug)
    return topic


class Publisher:
    def publish(self, *, title, slug):
        return publish_topic(title=title, slug=slug)

    def describe(self):
        return "publisher"
