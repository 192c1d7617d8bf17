"""Authenticated views: the user and the session, read the sync and the async way;
logging in and out; a permission checked before the view and inside it."""

from django.contrib.auth import alogin, alogout, authenticate, login, logout
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import aget_object_or_404, get_object_or_404
from django.views.decorators.debug import sensitive_variables

from topics.api import ApiError, ValidationFailed, api_view, choice_param, json_body
from topics.compat import aauthenticate
from topics.models import Topic

THEMES = ("light", "dark")
LOGIN_FIELDS = {"username": str, "password": str}
FIELD_REQUIRED = "This field is required."
# Django's ProhibitNullCharactersValidator's message.
NULL_CHARACTERS = "Null characters are not allowed."
INVALID_CREDENTIALS = "invalid_credentials"
WRONG_CREDENTIALS = "The username or the password is wrong."
CHANGE_PERMISSION = "topics.change_topic"
DELETE_PERMISSION = "topics.delete_topic"


def _profile(username: str, theme: str) -> dict:
    return {"username": username, "theme": theme}


@api_view
@login_required
def me(request: HttpRequest) -> JsonResponse:
    """The logged-in user and their session theme; ?theme= changes it."""
    user = request.user
    theme = choice_param(request.GET, "theme", choices=THEMES, default=None)
    if theme is not None:
        request.session["theme"] = theme
    return JsonResponse(
        _profile(user.get_username(), request.session.get("theme", "light"))
    )


@api_view
@login_required
async def ame(request: HttpRequest) -> JsonResponse:
    """See me()."""
    # request.user would load the user lazily, a query in async code: use auser().
    user = await request.auser()
    theme = choice_param(request.GET, "theme", choices=THEMES, default=None)
    if theme is not None:
        await request.session.aset("theme", theme)
    return JsonResponse(
        _profile(user.get_username(), await request.session.aget("theme", "light"))
    )


def _credentials(request: HttpRequest) -> dict[str, str]:
    """{"username", "password"} from the JSON body; both are required, neither
    may hold a NUL (AuthenticationForm's fields refuse it too: PostgreSQL
    cannot store or compare one, so the user lookup would fail with a 500)."""
    credentials = json_body(request, fields=LOGIN_FIELDS)
    if missing := [name for name in LOGIN_FIELDS if name not in credentials]:
        raise ValidationFailed({name: [FIELD_REQUIRED] for name in missing})
    if nul := [name for name, value in credentials.items() if "\x00" in value]:
        raise ValidationFailed({name: [NULL_CHARACTERS] for name in nul})
    return credentials


def _wrong_credentials() -> ApiError:
    # One answer for an unknown user, a wrong password and an inactive user:
    # which one it was would tell a stranger which usernames exist.
    return ApiError(INVALID_CREDENTIALS, WRONG_CREDENTIALS)


@api_view(methods=["POST"])
@sensitive_variables("credentials")
def log_in(request: HttpRequest) -> JsonResponse:
    """POST {"username", "password"}: 200 {"username"} and a new session; 400
    invalid_credentials, invalid_json or invalid (a field missing)."""
    credentials = _credentials(request)
    user = authenticate(request, **credentials)
    if user is None:
        raise _wrong_credentials()
    # A new session key and CSRF token, keeping the visitor's session data.
    login(request, user)
    return JsonResponse({"username": user.get_username()})


@api_view(methods=["POST"])
@sensitive_variables("credentials")
async def alog_in(request: HttpRequest) -> JsonResponse:
    """See log_in()."""
    credentials = _credentials(request)
    user = await aauthenticate(request, **credentials)
    if user is None:
        raise _wrong_credentials()
    # Never alogin(request, None): 5.2 fell back to request.auser() with a
    # RemovedInDjango61Warning, 6.1 raises AttributeError.
    await alogin(request, user)
    return JsonResponse({"username": user.get_username()})


@api_view(methods=["POST"])
def log_out(request: HttpRequest) -> HttpResponse:
    """POST: flush the session, logged in or not; 204."""
    logout(request)
    return HttpResponse(status=204)


@api_view(methods=["POST"])
async def alog_out(request: HttpRequest) -> HttpResponse:
    """See log_out()."""
    await alogout(request)
    return HttpResponse(status=204)


def _grants(topic: Topic, *, can_delete: bool) -> dict:
    return {"topic": topic.slug, "can_change": True, "can_delete": can_delete}


# raise_exception: a user without the permission gets handler403's JSON 403,
# not a login page (a visitor too: permission_required checks no login).
@api_view
@permission_required(CHANGE_PERMISSION, raise_exception=True)
def topic_grants(request: HttpRequest, slug: str) -> JsonResponse:
    """What the user may do to a topic: change it (required), delete it or not."""
    topic = get_object_or_404(Topic, slug=slug)
    can_delete = request.user.has_perm(DELETE_PERMISSION)
    return JsonResponse(_grants(topic, can_delete=can_delete))


@api_view
@permission_required(CHANGE_PERMISSION, raise_exception=True)
async def atopic_grants(request: HttpRequest, slug: str) -> JsonResponse:
    """See topic_grants()."""
    topic = await aget_object_or_404(Topic, slug=slug)
    user = await request.auser()
    # The decorator's check cached the user's permissions on this user object.
    can_delete = await user.ahas_perm(DELETE_PERMISSION)
    return JsonResponse(_grants(topic, can_delete=can_delete))
