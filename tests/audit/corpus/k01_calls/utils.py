"""Helpers shared by sync and async views."""

import time

import requests
from django.utils.text import slugify

from .models import Subscriber, Topic


def slug_for(title):
    return slugify(title)[:50]


def recent_topics():
    # Lazy: building a QuerySet runs no query.
    return Topic.objects.order_by("-id")[:10]


def topic_count():
    return Topic.objects.count()


def subscribers_of(topic):
    return [s.email for s in Subscriber.objects.filter(topics=topic)]


def ping_search_engine(url):
    requests.post("https://search.example/ping", data={"url": url}, timeout=5)


def wait_for_index():
    time.sleep(0.5)


def announce(topic):
    # Two calls deep from the view: a query, then an HTTP call.
    for email in subscribers_of(topic):
        print(email)
    ping_search_engine(f"/topics/{topic.slug}")


def lines(rows):
    for row in rows:
        time.sleep(0)
        yield f"{row}\n"
