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
    get_rows = sync_to_async(lambda: Note.objects.filter(pinned=True))  # planted: code.sync-orm
    rows = await get_rows()
    return JsonResponse({"notes": [n.text for n in rows]})


async def pinned_right(request):
    texts = await sync_to_async(pinned_texts)()  # control
    count = await sync_to_async(pinned_count)()  # control
    get_rows = sync_to_async(lambda: list(Note.objects.filter(pinned=True)))  # control
    rows = await get_rows()
    first = await sync_to_async(Note.objects.first)()  # control
    return JsonResponse(
        {"texts": texts, "count": count, "n": len(rows), "first": first.pk}
    )


async def pinned_async(request):
    texts = [n.text async for n in pinned_notes()]  # control
    return JsonResponse({"texts": texts})


async def pinned_in_a_thread(request):
    """Built in one thread, evaluated in another: no query on the loop."""
    qs = await sync_to_async(pinned_notes)()  # control
    rows = await sync_to_async(list)(qs)
    texts = await sync_to_async(Note.objects.values_list)("text", flat=True)  # control
    return JsonResponse({"n": len(rows), "texts": await sync_to_async(list)(texts)})


async def pinned_unused(request):
    qs = await sync_to_async(Note.objects.filter)(pinned=True)  # control
    qs = await sync_to_async(list)(Note.objects.filter(pinned=True))
    return JsonResponse({"n": len(qs)})
