"""Signals: a write whose side effects are a custom signal's async receivers."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, JsonResponse
from django.shortcuts import aget_object_or_404, get_object_or_404

from topics.api import ApiError, ValidationFailed, api_view, json_body
from topics.models import Topic
from topics.signals import email_share, record_share, topic_shared

SHARE_FIELDS = {"to": str}
RECIPIENT_REQUIRED = "Send the recipient's address: {'to': '...'}."
RECEIVER_FAILED = "receiver_failed"


class ReceiverFailed(ApiError):
    """A receiver raised (the mail server is down): the others still ran."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(
            RECEIVER_FAILED,
            f"Not done: {', '.join(names)}. The other receivers ran.",
            status=502,
            receivers=names,
        )


def _recipient(request: HttpRequest) -> str:
    data = json_body(request, fields=SHARE_FIELDS)
    to = data.get("to")
    if to is None:
        raise ValidationFailed({"to": [RECIPIENT_REQUIRED]})
    try:
        validate_email(to)
    except ValidationError as error:
        raise ValidationFailed({"to": error.messages}) from None
    return to


def _share_payload(
    slug: str, to: str, responses: list[tuple[Callable, Any]]
) -> dict[str, Any]:
    """The receivers' answers as the response body; 502 if one of them raised."""
    if failed := [
        r.__name__ for r, answer in responses if isinstance(answer, Exception)
    ]:
        raise ReceiverFailed(failed)
    answers = dict(responses)
    return {
        "topic": slug,
        "to": to,
        "shares": answers[record_share],
        "emails_sent": answers[email_share],
    }


@api_view(methods=["POST"])
def topic_share(request: HttpRequest, slug: str) -> JsonResponse:
    """Share a topic by email: {"to": address}; the receivers record and send it.

    Answers {"topic", "to", "shares": times shared, "emails_sent": 1}; 400 for
    a bad address, 404 for an unknown topic, 502 when a receiver failed.
    """
    to = _recipient(request)
    topic = get_object_or_404(Topic, slug=slug)
    # send_robust(): a receiver's exception comes back as its answer, after
    # the others ran; send() runs the async receivers in one async_to_sync().
    responses = topic_shared.send_robust(sender=Topic, topic=topic, to=to)
    return JsonResponse(_share_payload(slug, to, responses))


@api_view(methods=["POST"])
async def atopic_share(request: HttpRequest, slug: str) -> JsonResponse:
    """See topic_share()."""
    to = _recipient(request)
    topic = await aget_object_or_404(Topic, slug=slug)
    # asend_robust() (Django 5.0) awaits the async receivers on the loop,
    # together; asend() would let the first exception through.
    responses = await topic_shared.asend_robust(sender=Topic, topic=topic, to=to)
    return JsonResponse(_share_payload(slug, to, responses))
