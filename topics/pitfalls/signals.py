"""Pitfalls of a write's side effects in async code: a slow receiver of a model
signal, and email sent on the event loop."""

import asyncio
import threading
from typing import Any

from asgiref.sync import sync_to_async
from django.core.mail import send_mail
from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from topics.models import Activity, AnnouncedActivity, Topic
from topics.pitfalls.registry import Pitfall

# Seconds a receiver's I/O takes (an email, an HTTP call) in these snippets.
RECEIVER_PAUSE = 0.2
ANNOUNCED_ON_SAVE = "announced-on-save"
ANNOUNCED_AFTER = "announced-after"

# Who announced what, from which thread: (verb, thread ident), for the tests.
announcements: list[tuple[str, int]] = []


async def announce(activity: Activity) -> None:
    """Tell the world about an activity: slow I/O, awaited (an HTTP call)."""
    await asyncio.sleep(RECEIVER_PAUSE)
    announcements.append((activity.verb, threading.get_ident()))


# 36. A slow receiver of a model's post_save, and asave()/acreate().


# Connected for the proxy only: no other Activity save runs it.
@receiver(post_save, sender=AnnouncedActivity)
async def announce_on_save(
    sender: type[Activity], *, instance: Activity, created: bool, **kwargs: Any
) -> None:
    """An async receiver of post_save: save() runs it through async_to_sync()."""
    if created:
        await announce(instance)


async def wrong_record(topic: Topic) -> Activity:
    """acreate() returns once announce_on_save() has run, inside its hop."""
    return await AnnouncedActivity.objects.acreate(topic=topic, verb=ANNOUNCED_ON_SAVE)


activity_recorded = Signal()  # sent with activity=<Activity>, after the write


@receiver(activity_recorded)
async def announce_recorded(
    sender: type[Activity], *, activity: Activity, **kwargs: Any
) -> None:
    """See announce_on_save(); a receiver of the project's own signal."""
    await announce(activity)


async def right_record(topic: Topic) -> Activity:
    """See wrong_record(); the hop only writes, asend() then awaits the receiver."""
    activity = await Activity.objects.acreate(topic=topic, verb=ANNOUNCED_AFTER)
    await activity_recorded.asend(sender=Activity, activity=activity)
    return activity


# 37. Email sent on the loop.


async def wrong_send_notice(to: str) -> int:
    """send_mail() in async code: the SMTP conversation holds the loop."""
    return send_mail("Notice", "Something changed.", None, [to])


async def right_send_notice(to: str) -> int:
    """See wrong_send_notice(); the whole send is one thread hop."""
    # Thread-sensitive, the default: an email backend may use the ORM.
    return await sync_to_async(send_mail)("Notice", "Something changed.", None, [to])


TEST = "tests/pitfalls/test_signals.py::"

PITFALLS = [
    Pitfall(
        number=36,
        slug="slow-model-signal-receiver",
        title="A slow receiver of `post_save`, and `asave()`/`acreate()`",
        symptom=(
            "Nothing fails, but `acreate()` returns only after every `pre_save`/"
            "`post_save` receiver: `save()` sends them with `send()`, inside the "
            "save's thread hop (a sync receiver in that thread, an async one on "
            "the loop through `async_to_sync()` while the thread waits). The "
            "request's other ORM calls queue behind it: four gathered `acreate()` "
            "with a 0.2 s receiver take 0.8 s"
        ),
        fix=(
            "Keep model-signal receivers fast; send your own signal with `await "
            "signal.asend()` after the write, or enqueue a task for slow work."
        ),
        wrong=wrong_record,
        right=right_record,
        test=TEST + "ModelSignalTests::test_a_slow_receiver_holds_the_save_hop",
        versions=(
            "The same on 5.2 and 6.1: `Model.save_base()` calls `send()`; neither "
            "has an async model signal."
        ),
    ),
    Pitfall(
        number=37,
        slug="email-sent-on-the-loop",
        title="`send_mail()` in async code, with the SMTP backend",
        symptom=(
            "Nothing fails, but each send holds the event loop for the whole SMTP "
            "conversation: four concurrent views, each sending through a server "
            "that takes 0.3 s to answer, take 1.2 s; through one `sync_to_async` "
            "hop each (an ASGI request has a thread of its own), about 0.3 s"
        ),
        fix=(
            "`await sync_to_async(send_mail)(...)`: one hop for the whole send "
            "(thread-sensitive: a backend may use the ORM); or enqueue a task."
        ),
        wrong=wrong_send_notice,
        right=right_send_notice,
        test=TEST + "EmailOnTheLoopTests::test_sends_on_the_loop_take_turns",
        versions=(
            "Neither 5.2 nor 6.1 has an async mail API. 6.1 configures backends "
            "in `MAILERS` and deprecates `EMAIL_BACKEND`/`EMAIL_HOST`... "
            "(`project.settings.smtp_settings()`)."
        ),
    ),
]
