from asgiref.sync import sync_to_async
from django.http import JsonResponse

from .models import Note
from .queries import pinned_count, pinned_notes, pinned_texts


async def notes(request):
    rows = await sync_to_async(Note.objects.all)()  # planted: code.sync-orm
    return JsonResponse({"notes": [n.text for n in rows]})


async def pinned(request):
    qs = Note.objects.filter(pinned=True)
    rows = await sync_to_async(qs.order_by)("-id")  # planted: code.sync-orm
    return JsonResponse({"notes": [n.text for n in rows]})


async def pinned_from_helper(request):
    rows = await sync_to_async(pinned_notes)()  # planted: code.sync-orm (warning)
    return JsonResponse({"notes": [n.text for n in rows]})


async def pinned_lambda(request):
    rows = await sync_to_async(lambda: Note.objects.filter(pinned=True))()  # planted: code.sync-orm
    return JsonResponse({"notes": [n.text for n in rows]})


async def pinned_right(request):
    texts = await sync_to_async(pinned_texts)()  # control
    count = await sync_to_async(pinned_count)()  # control
    rows = await sync_to_async(lambda: list(Note.objects.filter(pinned=True)))()  # control
    first = await sync_to_async(Note.objects.first)()  # control
    return JsonResponse({"texts": texts, "count": count, "n": len(rows), "first": first.pk})


async def pinned_async(request):
    texts = [n.text async for n in pinned_notes()]  # control
    return JsonResponse({"texts": texts})
