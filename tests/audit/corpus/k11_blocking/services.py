import smtplib
import socket

from django.core.cache import cache
from django.core.files.storage import storages
from django.dispatch import Signal

from . import tasks
from .signals import order_paid

stock_changed = Signal()


async def notify(host):
    with smtplib.SMTP(host, 25) as server:  # planted: code.blocking-call
        server.noop()
    conn = socket.create_connection((host, 80))  # planted: code.blocking-call
    address = socket.gethostbyname(host)  # planted: code.blocking-call
    raw = socket.socket()
    raw.connect((host, 80))  # planted: code.blocking-call
    return conn, address, raw


async def restock(product_id):
    tasks.work.delay(product_id)  # planted: code.blocking-call (warning)
    stock_changed.send(sender=None, product_id=product_id)  # planted: code.blocking-call (warning)
    await stock_changed.asend(sender=None, product_id=product_id)  # control
    order_paid.send_robust(sender=None)  # planted: code.blocking-call (warning)
    media = storages["media"]
    if media.exists(f"products/{product_id}.jpg"):  # planted: code.blocking-call (warning)
        return True
    cache.set("restocked", product_id)  # planted: code.sync-cache (warning)
    return False


async def events(websocket):
    """Look-alikes: a websocket's send() and a queue's delay are not these."""
    await websocket.send("hello")  # control
    websocket.send_nowait = None
    return None
