import asyncio

from asgiref.sync import sync_to_async
from django.http import JsonResponse

from .models import AuditLog, Order
from .services import checksum, log_visit, notify


def mark_paid(order_id):
    Order.objects.filter(pk=order_id).update(paid=True)


def write_log(message):
    AuditLog(message=message).save()


def close_and_log(message):
    from django.db import close_old_connections

    AuditLog.objects.create(message=message)
    close_old_connections()


def recount(order_id):
    from django.db import connections

    try:
        return Order.objects.filter(pk=order_id).count()
    finally:
        connections.close_all()


def render_receipt(order_id):
    return f"receipt {order_id}"


async def pay(request, order_id):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, mark_paid, order_id)  # planted: code.sync-orm (warning)
    await asyncio.to_thread(write_log, "paid")  # planted: code.sync-orm (warning)
    await sync_to_async(mark_paid, thread_sensitive=False)(order_id)  # planted: code.sync-orm (warning)
    await asyncio.to_thread(lambda: list(Order.objects.filter(paid=True)))  # planted: code.sync-orm (warning)
    await sync_to_async(mark_paid)(order_id)  # control
    await asyncio.to_thread(checksum, b"body")  # control
    await loop.run_in_executor(None, checksum, b"body")  # control
    await asyncio.to_thread(render_receipt, order_id)  # control
    await asyncio.to_thread(close_and_log, "paid")  # control
    await sync_to_async(recount, thread_sensitive=False)(order_id)  # control
    await sync_to_async(render_receipt, thread_sensitive=False)(order_id)  # control
    return JsonResponse({"ok": True})


async def fire_and_forget(request, order_id):
    loop = asyncio.get_running_loop()
    loop.create_task(notify(order_id))  # planted: code.dropped-task (warning)
    asyncio.get_running_loop().create_task(notify(order_id))  # planted: code.dropped-task (warning)
    loop.run_in_executor(None, checksum, b"body")  # planted: code.dropped-task (warning)
    asyncio.ensure_future(notify(order_id), loop=loop)  # planted: code.dropped-task (warning)
    task = asyncio.create_task(notify(order_id))  # planted: code.dropped-task (warning)
    return JsonResponse({"ok": True})


async def kept(request, order_id):
    task = asyncio.create_task(notify(order_id))  # control
    task.add_done_callback(lambda t: t.result())
    await task
    async with asyncio.TaskGroup() as group:
        group.create_task(notify(order_id))  # control
    return JsonResponse({"ok": True})


async def lifespan_startup(app):
    loop = asyncio.get_event_loop()
    main_task = loop.create_task(app.main())  # control
    # The local keeps the task while the startup waits for it.
    await app.started.wait()


class Notifier:
    def __init__(self):
        self.tasks = set()
        self.loop = None

    def start(self, order_id):
        task = asyncio.get_running_loop().create_task(notify(order_id))  # control
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def schedule(self, scheduler, order_id):
        # Someone else's create_task: a scheduler, not the event loop.
        scheduler.create_task(notify(order_id))  # control

    async def run(self, executor, order_id):
        fut = asyncio.get_running_loop().run_in_executor(executor, checksum, b"")
        return await fut  # control


async def remember(order_id):
    # Awaits nothing: its task runs to the end at its first step.
    print("seen", order_id)


async def alert(order_id):
    await asyncio.sleep(0)
    print("alert", order_id)


async def order_seen(request, order_id):
    asyncio.create_task(remember(order_id))  # control
    asyncio.create_task(alert(order_id))  # planted: code.dropped-task (warning)
    return JsonResponse({})


async def order_visited(request, order_id):
    asyncio.create_task(log_visit(order_id))  # control
    asyncio.create_task(notify(order_id))  # planted: code.dropped-task (warning)
    return JsonResponse({})
