import asyncio
import csv
import io
import itertools

import aiofiles
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.http.response import StreamingHttpResponse as Streaming

from .models import Event


class Echo:
    def write(self, value):
        return value


def csv_rows(events):
    writer = csv.writer(Echo())
    yield writer.writerow(["name", "created"])
    for event in events:
        yield writer.writerow([event.name, event.created.isoformat()])


async def acsv_rows():
    writer = csv.writer(Echo())
    yield writer.writerow(["name", "created"])
    async for event in Event.objects.order_by("pk"):
        yield writer.writerow([event.name, event.created.isoformat()])


async def export_csv(request):
    events = [e async for e in Event.objects.all()]
    return StreamingHttpResponse(csv_rows(events), content_type="text/csv")  # planted: code.sync-iterator (warning)


async def export_csv_right(request):
    return StreamingHttpResponse(acsv_rows(), content_type="text/csv")  # control


async def countdown(request):
    def ticks():
        for n in range(10, 0, -1):
            yield f"{n}\n"

    return StreamingHttpResponse(ticks())  # planted: code.sync-iterator (warning)


async def countdown_right(request):
    async def ticks():
        for n in range(10, 0, -1):
            yield f"{n}\n"
            await asyncio.sleep(1)

    return StreamingHttpResponse(ticks())  # control


async def names(request):
    events = [e async for e in Event.objects.all()]
    lines = (f"{e.name}\n" for e in events)
    return StreamingHttpResponse(lines, content_type="text/plain")  # planted: code.sync-iterator (warning)


async def names_async(request):
    lines = (f"{e.name}\n" async for e in Event.objects.all())
    return StreamingHttpResponse(lines)  # control


async def joined(request):
    parts = [b"head\n", b"body\n"]
    return Streaming(streaming_content=itertools.chain(parts, [b"tail\n"]))  # planted: code.sync-iterator (warning)


async def small_list(request):
    return StreamingHttpResponse([b"one\n", b"two\n"])  # control


async def download(request, name):
    handle = open(f"/srv/exports/{name}", "rb")  # planted: code.blocking-call
    return FileResponse(handle, as_attachment=True)  # planted: code.sync-iterator (warning)


async def download_async(request, name):
    async def chunks():
        async with aiofiles.open(f"/srv/exports/{name}", "rb") as handle:
            while chunk := await handle.read(64 * 1024):
                yield chunk

    return StreamingHttpResponse(chunks())  # control


def download_sync(request, name):
    return FileResponse(open(f"/srv/exports/{name}", "rb"))  # control


def export_csv_sync(request):
    return StreamingHttpResponse(csv_rows(Event.objects.all()))  # control


async def report(request):
    buffer = io.StringIO("a,b\n")
    return HttpResponse(buffer.getvalue())  # control


class ReportView:
    def rows(self):
        yield "a\n"
        yield "b\n"

    async def arows(self):
        yield "a\n"

    async def get(self, request):
        return StreamingHttpResponse(self.rows())  # planted: code.sync-iterator (warning)

    async def post(self, request):
        return StreamingHttpResponse(self.arows())  # control


async def proxied(request, upstream):
    return StreamingHttpResponse(upstream.iter_bytes())  # control
