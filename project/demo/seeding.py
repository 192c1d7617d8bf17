"""Deterministic demo data: topic-1 … topic-N, idempotent, in batched bulk inserts."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction

from topics.exportfiles import write_export
from topics.exports import COLUMNS, export_folder
from topics.models import Author, Bookmark, Profile, Tag, Topic

AUTHOR_NAMES = [
    f"{first} {last}"
    for first in (
        "Ada",
        "Alan",
        "Grace",
        "Guido",
        "Jacob",
        "Adrian",
        "Simon",
        "Carlton",
    )
    for last in ("Lovelace", "Turing", "Hopper", "van Rossum", "Kaplan-Moss")
]
TAG_NAMES = [
    "asyncio", "django", "orm", "aiohttp", "aiofiles", "uvicorn", "gunicorn",
    "postgresql", "sqlite", "redis", "testing", "performance", "streaming",
    "deployment", "migration", "python",
]  # fmt: skip
SUBJECTS = [
    "Async views", "Thread hops", "Connection pools", "Streaming responses",
    "Upstream fan-out", "Atomic exports", "Lifespan hooks", "Event loop lag",
]  # fmt: skip
# Topic n is created n minutes after this instant, so topic-N is the newest.
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


DEMO_USERNAME = "demo"
DEMO_DISPLAY_NAME = "Demo User"


def seed_demo_user(*, password: str | None = DEMO_USERNAME) -> bool:
    """Make the demo user and its profile unless the user exists; True if made.

    password=None makes a user who cannot log in with one (tests log in with
    force_login, and hashing costs a third of a second)."""
    User = get_user_model()
    if User.objects.filter(username=DEMO_USERNAME).exists():
        return False
    # Demo only: a known password, so a visitor can log in to the auth pairs.
    user = User.objects.create_user(DEMO_USERNAME, password=password)
    Profile.objects.create(user=user, display_name=DEMO_DISPLAY_NAME)
    return True


EDITOR_USERNAME = "editor"
# The editor's permissions, Django's defaults for Topic: the demo user has none.
EDITOR_PERMISSIONS = ("change_topic", "delete_topic")


def seed_editor_user(*, password: str | None = EDITOR_USERNAME) -> bool:
    """Make the editor, who may change and delete topics, unless the user
    exists; True if made. password=None: see seed_demo_user()."""
    User = get_user_model()
    if User.objects.filter(username=EDITOR_USERNAME).exists():
        return False
    # Demo only: a known password, as for the demo user.
    user = User.objects.create_user(EDITOR_USERNAME, password=password)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="topics", codename__in=EDITOR_PERMISSIONS
        )
    )
    return True


def topic_slug(number: int) -> str:
    """The slug of demo topic `number` (1-based)."""
    return f"topic-{number}"


def _tag_indexes(number: int) -> set[int]:
    # One to three tags per topic, spread over all tags.
    count = 1 + number % 3
    return {(number * (step + 3) + step) % len(TAG_NAMES) for step in range(count)}


def _build_topic(number: int, author_ids: list[int]) -> Topic:
    subject = SUBJECTS[number % len(SUBJECTS)]
    return Topic(
        title=f"{subject} #{number}",
        slug=topic_slug(number),
        body=(
            f"Demo topic {number}: notes on {subject.lower()} in a Django app "
            "that moves to async where it pays."
        ),
        author_id=author_ids[number % len(author_ids)],
        created=EPOCH + timedelta(minutes=number),
    )


def _ensure_named(model: type[Author] | type[Tag], names: list[str]) -> list[int]:
    model.objects.bulk_create(
        [model(name=name) for name in names], ignore_conflicts=True
    )
    ids = dict(model.objects.filter(name__in=names).values_list("name", "id"))
    return [ids[name] for name in names]


def seed_topics(
    *,
    count: int,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Make sure demo topics 1..count exist; return how many were created."""
    author_ids = _ensure_named(Author, AUTHOR_NAMES)
    tag_ids = _ensure_named(Tag, TAG_NAMES)
    TopicTag = Topic.tags.through
    created = 0
    for start in range(1, count + 1, batch_size):
        numbers = range(start, min(start + batch_size, count + 1))
        # A topic and its tags are written in one transaction, so an existing
        # topic always has its tags and a rerun can skip it.
        with transaction.atomic():
            existing = set(
                Topic.objects.filter(
                    slug__in=[topic_slug(n) for n in numbers]
                ).values_list("slug", flat=True)
            )
            missing = [n for n in numbers if topic_slug(n) not in existing]
            topics = Topic.objects.bulk_create(
                [_build_topic(n, author_ids) for n in missing], batch_size=batch_size
            )
            TopicTag.objects.bulk_create(
                [
                    TopicTag(topic_id=topic.id, tag_id=tag_ids[index])
                    for n, topic in zip(missing, topics, strict=True)
                    for index in _tag_indexes(n)
                ],
                batch_size=batch_size,
            )
        created += len(missing)
        if progress:
            progress(len(numbers))
    return created


# (url, title, topic number or None, taggit tags in the order they are added).
# No bookmark adds its tags alphabetically, and the 2nd and 3rd not in the
# order the tags were first created either: a read that sets no order shows.
# No URL holds /sync/ or /async/, which the parity tests read as a twin's prefix.
DEMO_BOOKMARKS = [
    (
        "https://docs.djangoproject.com/en/stable/topics/db/optimization/",
        "Database access optimization",
        1,
        ["orm", "django", "asyncio"],
    ),
    (
        "https://docs.djangoproject.com/en/stable/ref/models/querysets/",
        "QuerySet API reference",
        2,
        ["performance", "orm", "django"],
    ),
    (
        "https://docs.aiohttp.org/en/stable/client.html",
        "aiohttp client",
        None,
        ["python", "aiohttp", "asyncio"],
    ),
    (
        "https://django-taggit.readthedocs.io/en/latest/",
        "django-taggit",
        3,
        ["tagging", "django"],
    ),
]


def seed_bookmarks() -> int:
    """Make the demo bookmarks that do not exist yet, with their tags; return how
    many were made. A bookmark's topic is left empty when that topic is missing."""
    topic_ids = dict(
        Topic.objects.filter(
            slug__in=[topic_slug(n) for _, _, n, _ in DEMO_BOOKMARKS if n]
        ).values_list("slug", "id")
    )
    existing = set(Bookmark.objects.values_list("url", flat=True))
    made = 0
    for url, title, number, tags in DEMO_BOOKMARKS:
        if url in existing:
            continue
        # A bookmark and its tags together, so that a rerun can skip it.
        with transaction.atomic():
            bookmark = Bookmark.objects.create(
                url=url,
                title=title,
                topic_id=topic_ids.get(topic_slug(number)) if number else None,
            )
            bookmark.tags.add(*tags)
        made += 1
    return made


DEMO_EXPORTS = ("demo.csv", "demo.jsonl")
DEMO_EXPORT_ROWS = 1000


def seed_demo_exports() -> list[str]:
    """Write the demo exports (the newest topics) that do not exist yet."""
    made = []
    folder = export_folder()
    for export_id in DEMO_EXPORTS:
        if not (folder.root / export_id).exists():
            fmt = export_id.rpartition(".")[2]
            # A filter, not a slice: an export reads its rows a chunk at a time.
            newest = Topic.objects.listing().values("pk")[:DEMO_EXPORT_ROWS]
            rows = Topic.objects.listing().filter(pk__in=newest)
            write_export(
                rows, folder=folder, export_id=export_id, fmt=fmt, columns=COLUMNS
            )
            made.append(export_id)
    return made
