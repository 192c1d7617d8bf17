from datetime import datetime, timedelta
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Count, F, Prefetch, Q
from django.utils import timezone
from taggit.managers import TaggableManager
from taggit.models import TaggedItem

from topics.compat import FETCH_RAISE

# The columns a topic list row carries; values() rows cross the sync/async
# boundary as plain dicts, never as model instances.
LIST_FIELDS = ("id", "slug", "title", "created")
# id breaks ties, so that pages never overlap or skip a row.
NEWEST_FIRST = ("-created", "-id")


class Author(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TagQuerySet(models.QuerySet):
    def with_topic_counts(self) -> Self:
        """Tags as {"name", "topics_count"} rows, most used first."""
        return (
            self.annotate(topics_count=Count("topics"))
            .order_by("-topics_count", "name")
            .values("name", "topics_count")
        )


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def tags_by_name() -> Prefetch:
    """A topic's tags in name order: for a QuerySet (with_tags()), and for
    (a)prefetch_related_objects() on instances already fetched."""
    return Prefetch("tags", queryset=Tag.objects.order_by("name"))


class TopicQuerySet(models.QuerySet):
    def tagged(self, tag: str | None) -> Self:
        """Topics carrying the tag; all topics when tag is None."""
        return self if tag is None else self.filter(tags__name=tag)

    def listing(
        self,
        *,
        text: str | None = None,
        tag: str | None = None,
        author_id: int | None = None,
        ordering: tuple[str, ...] = NEWEST_FIRST,
    ) -> Self:
        """List rows as dicts, matching every given filter, in one query."""
        topics = self.tagged(tag)
        if text:
            topics = topics.filter(Q(title__icontains=text) | Q(body__icontains=text))
        if author_id is not None:
            topics = topics.filter(author_id=author_id)
        return topics.order_by(*ordering).values(
            *LIST_FIELDS, author_name=F("author__name")
        )

    def with_tags(self) -> Self:
        """Prefetch each topic's tags in name order: one more query for all rows.

        The order is the prefetch query's own ORDER BY: the same in sync and
        async code and on every database (Django's Prefetch() docs).
        """
        return self.prefetch_related(tags_by_name())

    def tag_listing(self, *, tag: str | None = None) -> Self:
        """Topics newest first, each with its tags loaded: two queries."""
        topics = self.tagged(tag).with_tags().only(*LIST_FIELDS)
        topics = topics.order_by(*NEWEST_FIRST)
        return topics if FETCH_RAISE is None else topics.fetch_mode(FETCH_RAISE)

    def for_detail(self) -> Self:
        """Load the author, the tags and the counts up front: nothing lazy is left."""
        topics = (
            self.select_related("author")
            .with_tags()
            .annotate(author_topics_count=Count("author__topics"))
        )
        # Django 6.1+: a relation the payload reads but this method forgot to
        # load raises FieldFetchBlocked, in sync and async code alike.
        return topics if FETCH_RAISE is None else topics.fetch_mode(FETCH_RAISE)


class Topic(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    body = models.TextField()
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="topics")
    tags = models.ManyToManyField(Tag, related_name="topics", blank=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)
    # Bumped by every update; a client may send it back to detect a conflict.
    revision = models.PositiveIntegerField(default=1)

    objects = TopicQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["-created", "-id"], name="topic_newest_first")]

    def __str__(self) -> str:
        return self.title


class Profile(models.Model):
    """What the page layout shows of a user: `user.profile`, a lazy relation."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.display_name


class BookmarkQuerySet(models.QuerySet):
    def tagged(self, tag: str | None) -> Self:
        """Bookmarks carrying the taggit tag with this slug; all when tag is None."""
        if tag is None:
            return self
        # Not filter(tags__slug=tag): taggit 6.1.0 writes that join with a
        # compiler method Django 6.1 deprecates (RemovedInDjango2028Warning).
        opts = self.model._meta
        tagged_items = TaggedItem.objects.filter(
            tag__slug=tag,
            content_type__app_label=opts.app_label,
            content_type__model=opts.model_name,
        )
        return self.filter(pk__in=tagged_items.values("object_id"))

    def listing(self, *, tag: str | None = None) -> Self:
        """Bookmarks newest first, with their topic and tags loaded: two queries.

        taggit's manager refuses Prefetch("tags", queryset=...) and its
        prefetch has no ORDER BY: the reader sorts each row's tags
        (topics.payloads.bookmark_row()).
        """
        return (
            self.tagged(tag)
            .select_related("topic")
            .prefetch_related("tags")
            .order_by("-id")
        )


class Bookmark(models.Model):
    """A link worth keeping, tagged with django-taggit's TaggableManager."""

    url = models.URLField(max_length=500, unique=True)
    title = models.CharField(max_length=200)
    topic = models.ForeignKey(
        Topic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookmarks",
    )
    tags = TaggableManager(blank=True)

    objects = BookmarkQuerySet.as_manager()

    def __str__(self) -> str:
        return self.title


def _key_cutoff() -> datetime:
    return timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_MAX_AGE)


class IdempotencyKeyQuerySet(models.QuerySet):
    def live(self) -> Self:
        """Keys younger than IDEMPOTENCY_KEY_MAX_AGE: their answer is replayed."""
        return self.filter(created__gte=_key_cutoff())

    def expired(self) -> Self:
        """Keys past IDEMPOTENCY_KEY_MAX_AGE: not replayed, free to be used again."""
        return self.filter(created__lt=_key_cutoff())


class IdempotencyKey(models.Model):
    """A create already done: a retry sending the same key gets the same answer."""

    key = models.CharField(max_length=255, unique=True)
    # SHA-256 of the request data: the key must not be reused for another request.
    fingerprint = models.CharField(max_length=64)
    # The 201 body as sent, as text: jsonb would reorder its keys, and a replay
    # must be byte-identical to the first answer.
    response = models.TextField()
    # A client retries within minutes; older keys expire (see the queryset).
    created = models.DateTimeField(default=timezone.now, db_index=True)

    objects = IdempotencyKeyQuerySet.as_manager()

    def __str__(self) -> str:
        return self.key


class Activity(models.Model):
    """Something done to a topic, recorded by a signal's receiver (topics.signals)."""

    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="activities"
    )
    verb = models.CharField(max_length=50)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.topic_id} {self.verb}"


class AnnouncedActivity(Activity):
    """An Activity saved through this proxy is announced by pitfall 36's receivers
    (topics.pitfalls.signals): its signals name this class as their sender, so
    no other Activity save runs them."""

    class Meta:
        proxy = True
        verbose_name_plural = "announced activities"
