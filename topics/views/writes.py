"""ORM writes: create, update in a transaction, delete — sync, then async."""

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse

from topics import services
from topics.api import NotFound, api_view, idempotency_key, json_body, parse_pk
from topics.models import Topic

# The JSON types of TopicForm's and TopicUpdateForm's fields.
CREATE_FIELDS = {
    "title": str,
    "slug": str,
    "body": str,
    "author": str,
    "tags": list[str],
}
UPDATE_FIELDS = {"title": str, "body": str, "revision": int}


def _created(created: services.Created) -> HttpResponse:
    headers = {"Idempotent-Replayed": "true"} if created.replayed else {}
    # The stored text, not the payload encoded again: a replay is byte-identical.
    return HttpResponse(
        created.body, status=201, content_type="application/json", headers=headers
    )


@api_view(methods=["POST"])
def topic_create(request: HttpRequest) -> HttpResponse:
    """Create a topic from a JSON object, once per Idempotency-Key; 201 or 400."""
    data = json_body(request, fields=CREATE_FIELDS)
    key = idempotency_key(request)
    return _created(services.topic_create(data=data, idempotency_key=key))


@api_view(methods=["POST"])
async def atopic_create(request: HttpRequest) -> HttpResponse:
    """See topic_create()."""
    data = json_body(request, fields=CREATE_FIELDS)
    key = idempotency_key(request)
    # Validation queries (author, tags, unique slug): validate and save in one
    # hop. If the client leaves, the view is cancelled but that thread still
    # commits: the key lets the client's retry get this answer, not a duplicate.
    created = await sync_to_async(services.topic_create)(data=data, idempotency_key=key)
    return _created(created)


@api_view(methods=["PATCH"])
def topic_update(request: HttpRequest, slug: str) -> JsonResponse:
    """Change a topic's title or body under a row lock; 409 on a stale revision."""
    data = json_body(request, fields=UPDATE_FIELDS)
    return JsonResponse(services.topic_update(slug=slug, data=data))


@api_view(methods=["PATCH"])
async def atopic_update(request: HttpRequest, slug: str) -> JsonResponse:
    """See topic_update()."""
    data = json_body(request, fields=UPDATE_FIELDS)
    # transaction.atomic() has no async form: the whole transaction is one hop.
    return JsonResponse(
        await sync_to_async(services.topic_update)(slug=slug, data=data)
    )


@api_view(methods=["DELETE"])
def topic_delete(request: HttpRequest, pk: str) -> HttpResponse:
    """Delete a topic by id; 204, or 404 JSON for an unknown or malformed id."""
    topic_id = parse_pk(pk, model_name="topic")
    deleted, _ = Topic.objects.filter(pk=topic_id).delete()
    if not deleted:
        raise NotFound(f"No topic has the id {pk!r}.")
    return HttpResponse(status=204)


@api_view(methods=["DELETE"])
async def atopic_delete(request: HttpRequest, pk: str) -> HttpResponse:
    """See topic_delete()."""
    topic_id = parse_pk(pk, model_name="topic")
    deleted, _ = await Topic.objects.filter(pk=topic_id).adelete()
    if not deleted:
        raise NotFound(f"No topic has the id {pk!r}.")
    return HttpResponse(status=204)
