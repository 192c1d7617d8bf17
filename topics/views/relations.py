"""Many-to-many writes: add, remove or replace a topic's tags — sync, then async."""

from asgiref.sync import sync_to_async
from django.db.models import aprefetch_related_objects
from django.http import HttpRequest, JsonResponse
from django.shortcuts import aget_object_or_404

from topics import services
from topics.api import SLUG_RE, ValidationFailed, api_view, json_body
from topics.models import Tag, Topic, tags_by_name

# The method says what to do with the names sent.
EDITS: dict[str, services.TagEdit] = {
    "POST": "add",
    "PUT": "replace",
    "DELETE": "remove",
}
TAG_FIELDS = {"tags": list[str]}
TAGS_REQUIRED = "Send the tag names as a list: {'tags': [...]}."
INVALID_TAG = "Each tag is 1 to 50 lowercase letters, digits, hyphens or underscores."


def _tag_edit(request: HttpRequest) -> tuple[services.TagEdit, list[str]]:
    """The edit the method asks for and the distinct tag names, sorted; 400s first."""
    data = json_body(request, fields=TAG_FIELDS)
    if "tags" not in data:
        raise ValidationFailed({"tags": [TAGS_REQUIRED]})
    names = sorted(set(data["tags"]))
    if not all(SLUG_RE.fullmatch(name) for name in names):
        raise ValidationFailed({"tags": [INVALID_TAG]})
    # More names than a topic may carry can never pass: refused before a query.
    if len(names) > services.MAX_TOPIC_TAGS:
        raise ValidationFailed({"tags": [services.TOO_MANY_TAGS]})
    return EDITS[request.method], names


def _tags_payload(slug: str, names: list[str]) -> dict[str, object]:
    return {"topic": slug, "tags": names}


@api_view(methods=list(EDITS))
def topic_tags_edit(request: HttpRequest, slug: str) -> JsonResponse:
    """POST adds tags, PUT replaces them, DELETE removes them: {"tags": [names]}.

    Answers {"topic": slug, "tags": [names, sorted]}; missing tags are created.
    400 for a bad body or more than MAX_TOPIC_TAGS tags (nothing written),
    404 for an unknown topic, 405 for another method.
    """
    edit, names = _tag_edit(request)
    tags = services.topic_tags_edit(slug=slug, names=names, edit=edit)
    return JsonResponse(_tags_payload(slug, tags))


@api_view(methods=list(EDITS))
async def atopic_tags_edit(request: HttpRequest, slug: str) -> JsonResponse:
    """See topic_tags_edit()."""
    edit, names = _tag_edit(request)
    # Create the tags, link them, count: one transaction, so one sync function
    # in one hop. Awaited one by one, each a*() call would commit on its own.
    tags = await sync_to_async(services.topic_tags_edit)(
        slug=slug, names=names, edit=edit
    )
    return JsonResponse(_tags_payload(slug, tags))


@api_view(methods=list(EDITS))
async def atopic_tags_edit_native(request: HttpRequest, slug: str) -> JsonResponse:
    """See topic_tags_edit(); Django's async related-manager methods, awaited one
    by one: each is its own hop and its own transaction.

    So the rule is checked before writing, on a read that a concurrent edit
    can make stale: two edits may both pass and together exceed it.
    """
    edit, names = _tag_edit(request)
    # The topic and its tags in one hop: the rule below reads them.
    topic = await aget_object_or_404(
        Topic.objects.prefetch_related(tags_by_name()), slug=slug
    )
    if edit == "remove":
        await topic.tags.aremove(
            *[tag async for tag in Tag.objects.filter(name__in=names)]
        )
    else:
        current = {tag.name for tag in topic.tags.all()}
        wanted = current | set(names) if edit == "add" else set(names)
        if len(wanted) > services.MAX_TOPIC_TAGS:
            raise ValidationFailed({"tags": [services.TOO_MANY_TAGS]})
        await Tag.objects.abulk_create(
            [Tag(name=name) for name in names], ignore_conflicts=True
        )
        tags = [tag async for tag in Tag.objects.filter(name__in=names)]
        if edit == "add":
            await topic.tags.aadd(*tags)
        else:
            await topic.tags.aset(tags)
    # Every write above dropped the instance's prefetched tags: load them again,
    # in name order, onto the instance already fetched.
    await aprefetch_related_objects([topic], tags_by_name())
    return JsonResponse(_tags_payload(slug, [tag.name for tag in topic.tags.all()]))
