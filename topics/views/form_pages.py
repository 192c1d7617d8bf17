"""A ModelForm page in the site's layout: validate and save, render, redirect."""

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from topics.api import api_view
from topics.forms import TopicPageForm
from topics.models import Topic

TEMPLATE = "topics/topic_form_page.html"
CREATED = "Topic “%(title)s” created."


def _bound_form(request: HttpRequest) -> TopicPageForm:
    # Bound to any POST, an empty one too, as FormView does: errors, not a blank form.
    return TopicPageForm(request.POST if request.method == "POST" else None)


def _saved(form: TopicPageForm) -> Topic | None:
    """The new topic, or None if the form is not valid (its errors are set)."""
    if not form.is_valid():
        return None
    try:
        # A savepoint: the failed INSERT must not break the request's transaction.
        with transaction.atomic():
            return form.save()
    except IntegrityError:
        # Another request took the slug between validate_unique() and the INSERT.
        form.add_error("slug", form.instance.unique_error_message(Topic, ["slug"]))
        return None


def _created(request: HttpRequest, topic: Topic) -> HttpResponse:
    messages.success(request, CREATED % {"title": topic.title})
    # Post/Redirect/Get: a reload does not post again; the layout shows the message.
    return redirect(request.path)


@api_view(methods=["GET", "HEAD", "POST"])
@login_required
def topic_form_page(request: HttpRequest) -> HttpResponse:
    """A form to create a topic: errors shown again (200), success redirects (302)."""
    form = _bound_form(request)
    if form.is_bound and (topic := _saved(form)) is not None:
        return _created(request, topic)
    return render(request, TEMPLATE, {"form": form})


@api_view(methods=["GET", "HEAD", "POST"])
@login_required
async def atopic_form_page(request: HttpRequest) -> HttpResponse:
    """See topic_form_page()."""
    form = _bound_form(request)
    # is_valid() queries (the author, the unique slug), save() writes: one hop.
    if form.is_bound and (topic := await sync_to_async(_saved)(form)) is not None:
        return _created(request, topic)
    # The select's options and the layout query as they render: one hop more.
    return await sync_to_async(render)(request, TEMPLATE, {"form": form})
