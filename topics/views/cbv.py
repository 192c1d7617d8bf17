"""Class-based views: each sync class, then its async twin.

Django's generic views (ListView, DetailView...) are sync: every handler is a
def. Django runs a View with async handlers (all of them async) on the event
loop; the twin of a generic view is a View with an async get() that loads its
data awaited, then renders in one thread hop: the base layout queries.
"""

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import mixins as auth_mixins
from django.core.paginator import InvalidPage, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import aget_object_or_404, get_object_or_404, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView

from topics import mixins
from topics.api import MethodNotAllowed, json_error
from topics.models import Topic
from topics.payloads import topic_payload

LIST_TEMPLATE = "topics/cbv/topic_list.html"
DETAIL_TEMPLATE = "topics/cbv/topic_detail.html"
PER_PAGE = 20
DELETE_PERMISSION = "topics.delete_topic"


class JsonErrors:
    """View's 405, and an Http404 from a handler, as this project's JSON errors.

    Django's debug 404 page is HTML, and handler404 runs only with DEBUG off: the
    404 is not_found JSON with the Http404's message, as @api_view answers it,
    whatever DEBUG says.
    dispatch() and http_method_not_allowed() return a coroutine in async mode,
    as Django's own do.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if self.view_is_async:
            return self.__adispatch(request, *args, **kwargs)
        try:
            return super().dispatch(request, *args, **kwargs)
        except Http404 as exc:
            return json_error(exc)

    async def __adispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        """See dispatch()."""
        try:
            return await super().dispatch(request, *args, **kwargs)
        except Http404 as exc:
            return json_error(exc)

    def http_method_not_allowed(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> Any:
        response = MethodNotAllowed(request.method, self._allowed_methods()).response()
        if not self.view_is_async:
            return response

        async def func() -> HttpResponse:
            return response

        return func()


class TopicPermissions:
    """PermissionRequiredMixin's permissions, per method: only DELETE needs one."""

    def get_permission_required(self) -> tuple[str, ...]:
        return (DELETE_PERMISSION,) if self.request.method == "DELETE" else ()


class TopicView(
    TopicPermissions, auth_mixins.PermissionRequiredMixin, JsonErrors, View
):
    """GET a topic as JSON; DELETE it (204) with the delete_topic permission."""

    raise_exception = True  # an API answers 403, not a login page

    def get(self, request: HttpRequest, slug: str) -> JsonResponse:
        topic = get_object_or_404(Topic.objects.for_detail(), slug=slug)
        return JsonResponse(topic_payload(topic))

    def delete(self, request: HttpRequest, slug: str) -> HttpResponse:
        deleted, _ = Topic.objects.filter(slug=slug).delete()
        if not deleted:
            raise Http404(f"No topic has the slug {slug!r}.")
        return HttpResponse(status=204)


class AsyncTopicView(
    TopicPermissions, mixins.PermissionRequiredMixin, JsonErrors, View
):
    """See TopicView; Django's mixin checks in a sync dispatch(), ours awaits."""

    raise_exception = True

    async def get(self, request: HttpRequest, slug: str) -> JsonResponse:
        topic = await aget_object_or_404(Topic.objects.for_detail(), slug=slug)
        return JsonResponse(topic_payload(topic))

    async def delete(self, request: HttpRequest, slug: str) -> HttpResponse:
        deleted, _ = await Topic.objects.filter(slug=slug).adelete()
        if not deleted:
            raise Http404(f"No topic has the slug {slug!r}.")
        return HttpResponse(status=204)


class TopicListView(JsonErrors, ListView):
    """Topics as an HTML page, PER_PAGE a page: Django's ListView."""

    template_name = LIST_TEMPLATE
    paginate_by = PER_PAGE

    def get_queryset(self) -> QuerySet:
        return Topic.objects.listing()


def _list_context(queryset: QuerySet, number: str | None, per_page: int) -> dict:
    """ListView's pagination context for ?page= (a number or "last"), the page's
    rows loaded as a list; Http404 for any other ?page=, with ListView's message
    (MultipleObjectMixin.paginate_queryset())."""
    paginator = Paginator(queryset, per_page)
    try:
        number = paginator.num_pages if number == "last" else int(number or 1)
    except ValueError:
        message = _("Page is not “last”, nor can it be converted to an int.")
        raise Http404(message) from None
    try:
        page = paginator.page(number)
    except InvalidPage as exc:
        message = _("Invalid page (%(page_number)s): %(message)s")
        raise Http404(message % {"page_number": number, "message": exc}) from None
    page.object_list = list(page.object_list)
    return {
        "paginator": paginator,
        "page_obj": page,
        "is_paginated": page.has_other_pages(),
        "object_list": page.object_list,
    }


class AsyncTopicListView(JsonErrors, View):
    """See TopicListView; ListView's context, its queries in one thread hop."""

    async def get(self, request: HttpRequest) -> HttpResponse:
        context = await sync_to_async(_list_context)(
            Topic.objects.listing(), request.GET.get("page"), PER_PAGE
        )
        # The layout queries (user.profile, the tag menu): render in one hop.
        return await sync_to_async(render)(request, LIST_TEMPLATE, context)


class TopicDetailView(auth_mixins.LoginRequiredMixin, JsonErrors, DetailView):
    """One topic as an HTML page, for a logged-in user: Django's DetailView."""

    template_name = DETAIL_TEMPLATE

    def get_queryset(self) -> QuerySet:
        return Topic.objects.for_detail()


class AsyncTopicDetailView(mixins.LoginRequiredMixin, JsonErrors, View):
    """See TopicDetailView; the same context, DetailView's `object` and `topic`."""

    async def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        try:
            topic = await Topic.objects.for_detail().aget(slug=slug)
        except Topic.DoesNotExist:
            # DetailView.get_object()'s message, as the sync twin answers.
            message = _("No %(verbose_name)s found matching the query")
            raise Http404(
                message % {"verbose_name": Topic._meta.verbose_name}
            ) from None
        context = {"object": topic, "topic": topic}
        return await sync_to_async(render)(request, DETAIL_TEMPLATE, context)
