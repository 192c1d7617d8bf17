"""The views the middleware equivalence test drives: each exercises what one of
Django's default middleware acts on (sessions, messages, CSRF, redirects,
headers), through async views as a migrated app has them."""

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth import alogin, alogout, get_user_model
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.middleware.csrf import get_token
from django.template import engines
from django.urls import path
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

PAGE = engines["django"].from_string(
    "<form>{% csrf_token %}</form>"
    "{% for message in messages %}<p>{{ message.level_tag }}: {{ message }}</p>"
    "{% endfor %}"
)


async def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"{request.method} {request.get_full_path()}")


async def raise_404(request: HttpRequest) -> HttpResponse:
    raise Http404("nothing here")


async def stream(request: HttpRequest) -> StreamingHttpResponse:
    async def lines():
        for number in range(3):
            yield f"line {number}\n"

    return StreamingHttpResponse(lines(), content_type="text/plain")


@xframe_options_exempt
async def framed(request: HttpRequest) -> HttpResponse:
    return HttpResponse("may be framed")


async def own_headers(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("my own headers")
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["Strict-Transport-Security"] = "max-age=60"
    response["Content-Length"] = "14"
    return response


async def session_set(request: HttpRequest) -> HttpResponse:
    await request.session.aset("colour", "blue")
    return HttpResponse("set")


async def session_read(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(await request.session.aget("colour")))


async def session_flush(request: HttpRequest) -> HttpResponse:
    await request.session.aflush()
    return HttpResponse("flushed")


async def session_set_then_fail(request: HttpRequest) -> HttpResponse:
    await request.session.aset("colour", "red")
    return HttpResponse("failed", status=503)


async def messages_add(request: HttpRequest) -> HttpResponse:
    messages.success(request, "Saved.")
    messages.warning(request, "Check the slug.")
    return HttpResponse("added")


async def messages_add_many(request: HttpRequest) -> HttpResponse:
    # More than a cookie holds: the fallback storage puts the rest in the session.
    for number in range(60):
        messages.info(request, f"Message {number}: " + "x" * 80)
    return HttpResponse("added many")


async def page(request: HttpRequest) -> HttpResponse:
    # Reading the messages may load the session: render in one hop, as the
    # layout pattern does.
    return HttpResponse(await sync_to_async(PAGE.render)(request=request))


async def whoami(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    return HttpResponse(user.get_username() or "anonymous")


async def token(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"token": get_token(request)})


async def form(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"accepted {request.method} {sorted(request.POST)}")


@csrf_exempt
async def exempt(request: HttpRequest) -> HttpResponse:
    return HttpResponse("exempt")


async def login(request: HttpRequest) -> HttpResponse:
    user = await get_user_model().objects.aget(username="eve")
    await alogin(request, user)
    return HttpResponse("logged in")


async def logout(request: HttpRequest) -> HttpResponse:
    await alogout(request)
    return HttpResponse("logged out")


def querying_csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    """A CSRF_FAILURE_VIEW that queries, as a project's may: sync, as Django
    calls it."""
    users = get_user_model().objects.count()
    return JsonResponse({"reason": reason, "users": users}, status=403)


urlpatterns = [
    path("eq/plain/", plain),
    path("eq/raise404/", raise_404),
    path("eq/stream/", stream),
    path("eq/framed/", framed),
    path("eq/own-headers/", own_headers),
    path("eq/session-set/", session_set),
    path("eq/session-read/", session_read),
    path("eq/session-flush/", session_flush),
    path("eq/session-set-then-fail/", session_set_then_fail),
    path("eq/messages-add/", messages_add),
    path("eq/messages-add-many/", messages_add_many),
    path("eq/page/", page),
    path("eq/whoami/", whoami),
    path("eq/token/", token),
    path("eq/form/", form),
    path("eq/exempt/", exempt),
    path("eq/login/", login),
    path("eq/logout/", logout),
    path("eq/exempt-from-redirect/", plain),
]
