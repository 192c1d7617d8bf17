"""The project's own signals and their receivers, connected when TopicsConfig.ready()
imports this module.

Both receivers are `async def`: `asend()` awaits them on the event loop,
together; `send()` from sync code runs them through one `async_to_sync()`.
Source: Django's signals topic, "Asynchronous receivers" (Django 5.0).
"""

from typing import Any

from asgiref.sync import sync_to_async
from django.core.mail import send_mail
from django.dispatch import Signal, receiver

from topics.models import Activity, Topic

# Sent with topic=<Topic> and to=<an email address>, after the request checked both.
topic_shared = Signal()

SHARED = "shared"


@receiver(topic_shared)
async def record_share(sender: type[Topic], *, topic: Topic, **kwargs: Any) -> int:
    """Record the share as an Activity row; return how often the topic was shared."""
    await Activity.objects.acreate(topic=topic, verb=SHARED)
    return await Activity.objects.filter(topic=topic, verb=SHARED).acount()


@receiver(topic_shared)
async def email_share(
    sender: type[Topic], *, topic: Topic, to: str, **kwargs: Any
) -> int:
    """Email the topic to `to`; return the number of messages sent: 1.

    Raises the backend's error (smtplib's, an OSError) when it cannot send.
    """
    # Django has no async mail API (6.1 neither): one hop for the whole send.
    # Thread-sensitive, the default: an email backend may use the ORM.
    return await sync_to_async(send_mail)(
        subject=f"Shared with you: {topic.title}",
        message=f"{topic.title}\n\n{topic.body}\n",
        from_email=None,  # DEFAULT_FROM_EMAIL
        recipient_list=[to],
    )
