from asgiref.sync import sync_to_async
from django.http import JsonResponse

from . import services
from .models import Topic
from .services import Publisher
from .utils import announce, lines, recent_topics, slug_for, topic_count, wait_for_index


async def create_topic(request):
    title = request.POST["title"]
    slug = slug_for(title)  # control
    topic = services.publish_topic(title=title, slug=slug)  # planted: code.sync-orm
    announce(topic)  # planted: code.sync-orm
    return JsonResponse({"id": topic.pk})


async def create_topic_right(request):
    title = request.POST["title"]
    topic = await sync_to_async(services.publish_topic)(title=title, slug=slug_for(title))  # control
    await sync_to_async(announce)(topic)  # control
    return JsonResponse({"id": topic.pk})


async def stats(request):
    return JsonResponse({"topics": topic_count()})  # planted: code.sync-orm


async def stats_right(request):
    return JsonResponse({"topics": await Topic.objects.acount()})


async def latest(request):
    topics = recent_topics()  # control
    return JsonResponse({"titles": [t.title async for t in topics]})


async def reindex(request):
    wait_for_index()  # planted: code.blocking-call
    return JsonResponse({})


async def bump(request, pk):
    topic = await Topic.objects.aget(pk=pk)
    topic.bump()  # planted: code.sync-orm
    return JsonResponse({})


async def publish_with_class(request):
    publisher = Publisher()
    name = publisher.describe()  # control
    topic = Publisher.publish(publisher, title="t", slug="t")  # planted: code.sync-orm
    return JsonResponse({"by": name, "id": topic.pk})


async def export(request):
    rows = lines(["a", "b"])  # control
    return JsonResponse({"rows": [row async for row in aiter_rows(rows)]})


async def aiter_rows(rows):
    for row in rows:
        yield row


def create_topic_sync(request):
    topic = services.publish_topic(title="t", slug="t")  # control
    announce(topic)  # control
    return JsonResponse({"id": topic.pk})
