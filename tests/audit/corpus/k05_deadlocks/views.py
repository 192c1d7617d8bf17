"""Async views that wait on a thread primitive inside sync_to_async."""

import asyncio
import queue
import threading
from concurrent.futures import Future

from asgiref.sync import sync_to_async
from django.http import JsonResponse

from .models import Report

results = queue.Queue()
ready = threading.Event()


def build_report(report_id):
    report = Report.objects.get(pk=report_id)
    results.put(report.render())


def wait_for_result():
    return results.get()


async def report_view(request, report_id):
    # The producer and the wait share the one thread-sensitive thread.
    producer = asyncio.ensure_future(sync_to_async(build_report)(report_id))
    data = await sync_to_async(wait_for_result)()  # planted: code.thread-deadlock
    await producer
    return JsonResponse({"data": data})


async def report_view_inline(request, report_id):
    task = asyncio.ensure_future(sync_to_async(build_report)(report_id))
    data = await sync_to_async(results.get)()  # planted: code.thread-deadlock
    await task
    return JsonResponse({"data": data})


async def report_view_to_thread(request, report_id):
    task = asyncio.ensure_future(sync_to_async(build_report)(report_id))
    data = await asyncio.to_thread(results.get)  # control
    await task
    return JsonResponse({"data": data})


async def report_view_own_thread(request, report_id):
    task = asyncio.ensure_future(sync_to_async(build_report)(report_id))
    data = await sync_to_async(results.get, thread_sensitive=False)()  # control
    await task
    return JsonResponse({"data": data})


async def poll_view(request):
    # Nothing waits if the queue is empty.
    try:
        data = await sync_to_async(results.get_nowait)()  # control
    except queue.Empty:
        data = None
    return JsonResponse({"data": data})


async def bounded_wait_view(request):
    data = await sync_to_async(results.get)(timeout=2)  # control
    return JsonResponse({"data": data})


async def warmup_view(request):
    # Set by a thread of its own: the wait holds the request's thread only.
    await sync_to_async(ready.wait)()  # planted: code.thread-deadlock (warning)
    return JsonResponse({"ready": True})


async def lookup_view(request, key):
    # Model.objects.get and dict.get are not waits.
    report = await sync_to_async(Report.objects.get)(pk=key)  # control
    cached = await sync_to_async({}.get)(key)  # control
    return JsonResponse({"id": report.pk, "cached": cached})


async def future_view(request):
    future = Future()
    setter = sync_to_async(lambda: future.set_result(Report.objects.count()))
    pending = asyncio.ensure_future(setter())
    count = await sync_to_async(future.result)()  # planted: code.thread-deadlock
    await pending
    return JsonResponse({"count": count})
