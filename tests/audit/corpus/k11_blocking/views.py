import asyncio
import os
import shutil
import tempfile
from pathlib import Path

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import alogin, alogout, authenticate, login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage, send_mail
from django.db.models.signals import post_save
from django.http import HttpResponse, JsonResponse

from .models import Author
from .signals import order_paid, order_viewed
from .tasks import send_receipt, work

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


async def sign_in(request):
    user = authenticate(request, username="a", password="b")  # planted: code.sync-orm
    if user is not None:
        login(request, user)  # planted: code.sync-orm
    # Django 5.2's aauthenticate() hashes on the loop (flagged there): one hop.
    user = await sync_to_async(authenticate)(request, username="a", password="b")  # control
    await alogin(request, user)  # control
    return HttpResponse("ok")


async def sign_out(request):
    auth_logout(request)  # planted: code.sync-orm
    await alogout(request)  # control
    return HttpResponse("bye")


async def register(request):
    user = User.objects.create_user("ann", "ann@example.com", "pw")  # planted: code.sync-orm (warning)
    admin = await User.objects.acreate_user("bob", "bob@example.com", "pw")  # control
    email = User.objects.normalize_email("Ann@Example.com")  # control
    staff = User.objects.filter(is_staff=True)  # control
    return JsonResponse({"id": user.pk, "admin": admin.pk, "email": email, "n": len([s async for s in staff])})


async def author_stats(request, pk):
    author = await Author.objects.aget(pk=pk)
    books = author.book_set.count()  # planted: code.sync-orm (warning)
    first = author.book_set.filter(title__startswith="A").first()  # planted: code.sync-orm (warning)
    total = await author.book_set.acount()  # control
    loaded = await Author.objects.prefetch_related("book_set").aget(pk=pk)
    cached = loaded.book_set.count()  # control
    seen_set = {1, 2}
    seen_set.update([3])  # control
    counts = [1, 2, 2]
    twos = counts.count(2)  # control
    return JsonResponse({"books": books, "first": str(first), "total": total, "cached": cached, "twos": twos})


async def readme(request):
    text = Path("README.md").read_text()  # planted: code.blocking-call
    config = (settings.BASE_DIR / "config.json").read_bytes()  # planted: code.blocking-call
    page = TEMPLATES_DIR / "page.html"
    body = page.read_text(encoding="utf-8")  # planted: code.blocking-call
    same = await asyncio.to_thread(Path("README.md").read_text)  # control
    exists = Path("README.md").exists()  # control
    name = Path("README.md").name  # control
    return HttpResponse(text + body + str(config) + same + str(exists) + name)


async def upload(request):
    handle, path = tempfile.mkstemp()  # planted: code.blocking-call
    with tempfile.NamedTemporaryFile() as tmp:  # planted: code.blocking-call
        tmp.write(b"x")
    os.makedirs("media/uploads", exist_ok=True)  # planted: code.blocking-call (warning)
    os.remove(path)  # planted: code.blocking-call (warning)
    shutil.copyfile("a.txt", "b.txt")  # planted: code.blocking-call
    shutil.rmtree("media/tmp")  # planted: code.blocking-call
    if os.path.exists("media/x"):  # control
        size = os.path.getsize("media/x")  # control
    spool = tempfile.SpooledTemporaryFile(max_size=1024)  # control
    stored = default_storage.save("uploads/a.txt", request.FILES["file"])  # planted: code.blocking-call (warning)
    saved = await sync_to_async(default_storage.save)("uploads/b.txt", request.FILES["file"])  # control
    url = default_storage.url(stored)  # control
    return JsonResponse({"handle": handle, "size": size, "spool": str(spool), "saved": saved, "url": url})


async def contact(request):
    send_mail("Hi", "Body", "from@example.com", ["to@example.com"])  # planted: code.blocking-call
    EmailMessage("Hi", "Body", to=["to@example.com"]).send()  # planted: code.blocking-call
    message = EmailMessage("Hi", "Body", to=["to@example.com"])
    message.send(fail_silently=True)  # planted: code.blocking-call
    await sync_to_async(send_mail)("Hi", "Body", "from@example.com", ["to@example.com"])  # control
    await sync_to_async(message.send)()  # control
    return HttpResponse("sent")


async def checkout(request, order_id):
    work.delay(1)  # planted: code.blocking-call (warning)
    send_receipt.apply_async((order_id,), countdown=10)  # planted: code.blocking-call (warning)
    await sync_to_async(send_receipt.delay)(order_id)  # control
    order_paid.send(sender=None, order_id=order_id)  # planted: code.blocking-call (warning)
    post_save.send(sender=Author, instance=None, created=False)  # planted: code.blocking-call (warning)
    await order_paid.asend(sender=None, order_id=order_id)  # control
    order_viewed.send(sender=None, order_id=order_id)  # control
    await post_save.asend(sender=Author, instance=None, created=False)  # control
    return HttpResponse("paid")


def legacy_report():
    loop = asyncio.new_event_loop()
    return loop.run_until_complete(fetch_report())  # control


async def fetch_report():
    loop = asyncio.get_event_loop()
    data = loop.run_until_complete(asyncio.sleep(0, "x"))  # planted: code.blocking-call
    again = await asyncio.sleep(0, "y")  # control
    return data + again


class Throttle:
    """A look-alike: a delay() of its own, and no Celery."""

    def delay(self, seconds):
        return seconds


async def throttled(request):
    throttle = Throttle()
    wait = throttle.delay(5)  # control
    await asyncio.sleep(wait)  # control
    return HttpResponse("ok")


def sync_contact(request):
    send_mail("Hi", "Body", "from@example.com", ["to@example.com"])  # control
    work.delay(2)  # control
    Path("README.md").read_text()  # control
    return HttpResponse("sent")


async def run_task(task, *args):
    """A helper that dispatches whatever task it is given."""
    task.delay(*args)  # planted: code.blocking-call (warning)


async def run_throttled(throttle, *args):
    throttle.delay(*args)  # control
