"""A background thread whose start-up a view waits for."""

import asyncio
import threading

from asgiref.sync import sync_to_async


class Warmer:
    def __init__(self):
        self.started = threading.Event()
        self.loaded = asyncio.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        self.started.set()

    async def wait_started(self):
        await sync_to_async(self.started.wait)()  # planted: code.thread-deadlock (warning)

    async def wait_loaded(self):
        await self.loaded.wait()  # control

    async def stop(self):
        await sync_to_async(lambda: self.thread.join())()  # planted: code.thread-deadlock (warning)

    async def stop_later(self):
        await asyncio.to_thread(self.thread.join)  # control

    async def stop_soon(self):
        await sync_to_async(self.thread.join)(timeout=5)  # control


lock = threading.Lock()


@sync_to_async
def release_lock():
    lock.release()


async def critical_section():
    await sync_to_async(lock.acquire)()  # planted: code.thread-deadlock
    await release_lock()
