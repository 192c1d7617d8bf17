import asyncio

from asgiref.sync import async_to_sync, sync_to_async
from django.http import JsonResponse

from .notify import anotify, digest, notify, notify_all, send_digest


def comment_sync(request):
    notify("comments", "new comment")  # control
    return JsonResponse({})


async def comment(request):
    notify("comments", "new comment")  # planted: code.blocking-call
    return JsonResponse({})


async def broadcast(request):
    notify_all(["a", "b"], "hello")  # planted: code.blocking-call
    return JsonResponse({})


async def comment_right(request):
    await anotify("comments", "new comment")  # control
    await sync_to_async(notify)("comments", "new comment")  # control
    return JsonResponse({})


async def nightly(request):
    digest("all")  # planted: code.blocking-call
    return JsonResponse({})


async def nightly_inline(request):
    asyncio.run(send_digest("all"))  # planted: code.blocking-call
    async_to_sync(send_digest)("all")  # planted: code.blocking-call
    await send_digest("all")  # control
    return JsonResponse({})
