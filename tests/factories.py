"""A small plain factory for test data; the demo seeder covers the bulk cases."""

from itertools import count

from topics.models import Author, Tag, Topic

_numbers = count(1)


def make_topic(
    *, slug: str | None = None, tags: tuple[str, ...] = (), **fields
) -> Topic:
    """Create a topic with an author and the named tags."""
    number = next(_numbers)
    author, _ = Author.objects.get_or_create(
        name=fields.pop("author_name", "Ada Lovelace")
    )
    topic = Topic.objects.create(
        title=fields.pop("title", f"Topic {number}"),
        slug=slug or f"factory-topic-{number}",
        body=fields.pop("body", f"Body of topic {number}."),
        author=author,
        **fields,
    )
    topic.tags.set([Tag.objects.get_or_create(name=name)[0] for name in tags])
    return topic
