"""Work sent to threads and tasks from async views."""

import asyncio
import hashlib

from asgiref.sync import sync_to_async

from .models import Order


def checksum(payload):
    return hashlib.sha256(payload).hexdigest()


async def notify(order_id):
    await asyncio.sleep(0)


@sync_to_async(thread_sensitive=False)  # planted: code.sync-orm (warning)
def count_orders():
    return Order.objects.count()


@sync_to_async(thread_sensitive=False)  # control
def digest(payload):
    return checksum(payload)


@sync_to_async
def count_orders_safely():
    return Order.objects.count()  # control


async def log_visit(order_id):
    # Awaits nothing: a task of it runs to the end at its first step.
    print("visit", order_id)
