from typing import Self

from django.db import models
from django.db.models import F, Prefetch
from django.utils import timezone

# The columns a topic list row carries; values() rows cross the sync/async
# boundary as plain dicts, never as model instances.
LIST_FIELDS = ("id", "slug", "title", "created")


class Author(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TopicQuerySet(models.QuerySet):
    def tagged(self, tag: str | None) -> Self:
        """Topics carrying the tag; all topics when tag is None."""
        return self if tag is None else self.filter(tags__name=tag)

    def newest_first(self) -> Self:
        # id breaks ties so that pages never overlap or skip a row.
        return self.order_by("-created", "-id")

    def listing(self, *, tag: str | None = None) -> Self:
        """List rows as dicts, newest first, in one query."""
        return (
            self.tagged(tag)
            .newest_first()
            .values(*LIST_FIELDS, author_name=F("author__name"))
        )

    def for_detail(self) -> Self:
        """Load the author and the tags up front, so nothing is fetched lazily later."""
        return self.select_related("author").prefetch_related(
            Prefetch("tags", queryset=Tag.objects.order_by("name"))
        )


class Topic(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    body = models.TextField()
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="topics")
    tags = models.ManyToManyField(Tag, related_name="topics", blank=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    objects = TopicQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["-created", "-id"], name="topic_newest_first")]

    def __str__(self) -> str:
        return self.title
