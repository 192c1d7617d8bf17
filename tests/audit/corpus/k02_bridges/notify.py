"""A sync "notify" helper shared by sync views and async ones."""

import asyncio

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def notify(group, message):
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(group, {"type": "notify", "text": message})


def notify_all(groups, message):
    for group in groups:
        notify(group, message)


async def send_digest(group):
    await asyncio.sleep(0)


def digest(group):
    asyncio.run(send_digest(group))


async def anotify(group, message):
    layer = get_channel_layer()
    await layer.group_send(group, {"type": "notify", "text": message})
