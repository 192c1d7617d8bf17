"""Authenticated views: the user and the session, read the sync and the async way."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse

from topics.api import api_view, choice_param

THEMES = ("light", "dark")


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
