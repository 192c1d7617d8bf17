import asyncio

from django.http import JsonResponse
from django.shortcuts import render

from .models import Note


async def fetch_summary(pk):
    note = await Note.objects.aget(pk=pk)
    return note.text[:50]


async def note_count(request):
    total = Note.objects.acount()  # planted: code.not-awaited
    return JsonResponse({"total": total})


async def note_count_awaited(request):
    total = await Note.objects.acount()  # control
    return JsonResponse({"total": total})


async def dashboard(request):
    pinned = Note.objects.filter(pinned=True).acount()  # planted: code.not-awaited
    context = {"pinned": pinned, "title": "Dashboard"}
    return render(request, "dashboard.html", context)


async def dashboard_awaited(request):
    pinned = await Note.objects.filter(pinned=True).acount()  # control
    context = {"pinned": pinned, "title": "Dashboard"}
    return render(request, "dashboard.html", context)


async def summaries(request):
    first = fetch_summary(1)  # control
    second = fetch_summary(2)  # control
    tasks = [first, second]
    results = await asyncio.gather(*tasks)
    return JsonResponse({"results": results})


async def summaries_inline(request):
    first = fetch_summary(1)  # control
    second = fetch_summary(2)  # control
    results = await asyncio.gather(*[first, second])
    return JsonResponse({"results": list(results)})


async def summaries_in_a_loop(request):
    first = fetch_summary(1)  # control
    out = []
    for pending in [first]:
        out.append(await pending)
    return JsonResponse({"out": out})


async def with_task_group(request):
    first = fetch_summary(1)  # control
    async with asyncio.TaskGroup() as group:
        task = group.create_task(first)
    return JsonResponse({"summary": task.result()})


async def latest_text(request):
    latest = Note.objects.order_by("-pk").afirst()  # planted: code.not-awaited
    return JsonResponse({"text": f"{latest}"})


async def next_number(request):
    total = Note.objects.acount()  # planted: code.not-awaited
    return JsonResponse({"next": total + 1})


async def has_notes(request):
    found = Note.objects.aexists()  # planted: code.not-awaited
    if found:
        return JsonResponse({"found": True})
    return JsonResponse({"found": False})


async def summary_payload(request, pk):
    summary = fetch_summary(pk)  # planted: code.not-awaited
    payload = [{"pk": pk, "summary": summary}]
    return JsonResponse(payload, safe=False)


async def deferred(request, pk):
    summary = fetch_summary(pk)  # control
    handle = asyncio.ensure_future(summary)
    return JsonResponse({"summary": await handle})
