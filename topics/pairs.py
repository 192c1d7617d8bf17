"""The pair registry: every pattern declared once.

The URLconf, the index page, the parity tests, the system checks and the
benchmark all read PAIRS. Adding a pattern = one entry here and two views.
"""

from topics.registry import Example, Pair, Variant
from topics.views import (
    auth,
    cbv,
    exports,
    fanout,
    form_pages,
    httperrors,
    layout,
    orm,
    pages,
    relations,
    resilience,
    signals,
    tags,
    tasks,
    writes,
)

# Creating and updating change these in every response.
VOLATILE = ("id", "created", "updated")
NEW_TOPIC = {
    "title": "Streaming exports",
    "slug": "streaming-exports",
    "body": "Write to a temporary file, then os.replace().",
    "author": "Ada Lovelace",
    "tags": ["django", "streaming"],
}

# The form page's POST bodies, as a browser sends them.
FORM_ENCODED = "application/x-www-form-urlencoded"
NEW_TOPIC_FORM = (
    "title=Layouts+in+async+views&slug=layouts-in-async"
    "&body=Render+in+one+hop.&author=Ada+Lovelace"
)

PAIRS: list[Pair] = [
    Pair(
        name="topic_list",
        family="ORM: reads",
        route="topics/",
        sync_view=orm.topic_list,
        async_view=orm.atopic_list,
        lesson=(
            "Evaluate the QuerySet inside one sync_to_async(list) call: one thread "
            "hop, plain dicts back, never a lazy QuerySet."
        ),
        examples=(
            "topics/",
            "topics/?page=2&per_page=5",
            "topics/?tag=django",
            "topics/?page=0",
            "topics/?per_page=lots",
            "topics/?tag=Not%20A%20Slug",
        ),
        variants=(
            Variant(
                name="native",
                mode="async",
                view=orm.atopic_list_native,
                lesson=(
                    "Django's `async for` over the QuerySet: the same single hop, "
                    "taken inside the ORM."
                ),
            ),
        ),
    ),
    Pair(
        name="topic_search",
        family="ORM: reads",
        route="search/",
        sync_view=orm.topic_search,
        async_view=orm.atopic_search,
        lesson=(
            "Paginator in the sync twin, AsyncPaginator (Django 6.0+) in the async "
            "one, one sync_to_async on 5.2; filters and ordering built once on the "
            "QuerySet."
        ),
        examples=(
            "search/",
            "search/?q=lag&ordering=title&per_page=5",
            "search/?tag=django&ordering=oldest&page=2&per_page=3",
            "search/?q=nothing-matches-this",
            "search/?page=999",
            "search/?ordering=random",
            "search/?author=abc",
            "search/?q=%00",
        ),
    ),
    Pair(
        name="topic_detail",
        family="ORM: reads",
        route="topics/<slug:slug>/",
        sync_view=orm.topic_detail,
        async_view=orm.atopic_detail,
        lesson=(
            "aget_object_or_404 on a QuerySet that loads the author, tags and counts "
            "up front: nothing lazy is touched after the await."
        ),
        examples=("topics/topic-1/", "topics/no-such-topic/"),
    ),
    Pair(
        name="topic_stats",
        family="ORM: reads",
        route="stats/",
        sync_view=orm.topic_stats,
        async_view=orm.atopic_stats,
        lesson=(
            "aaggregate(), acount() and `async for` over an annotated QuerySet: "
            "three awaited queries, the same three as the sync twin."
        ),
        examples=("stats/",),
    ),
    Pair(
        name="topic_overview",
        family="ORM: reads",
        route="topics/<slug:slug>/overview/",
        sync_view=orm.topic_overview,
        async_view=orm.atopic_overview,
        lesson=(
            "Five dependent queries as one sync function behind one sync_to_async: "
            "one thread hop instead of five."
        ),
        examples=("topics/topic-7/overview/", "topics/no-such-topic/overview/"),
        variants=(
            Variant(
                name="hops",
                mode="async",
                view=orm.atopic_overview_hops,
                lesson=(
                    "The same five queries, each awaited: five hops. Fine for one or "
                    "two queries, or to await other I/O between them."
                ),
            ),
        ),
    ),
    Pair(
        name="topic_create",
        family="ORM: writes",
        route="create/",
        sync_view=writes.topic_create,
        async_view=writes.atopic_create,
        lesson=(
            "A ModelForm validates by querying (author, tags, unique slug): validate "
            "and save in one sync service, called through one sync_to_async."
        ),
        examples=(
            Example("create/", "POST", json=NEW_TOPIC, volatile=VOLATILE),
            Example("create/", "POST", json={**NEW_TOPIC, "slug": "topic-1"}),
            Example("create/", "POST", json={"title": "", "author": "Nobody"}),
            Example("create/", "POST", json={**NEW_TOPIC, "tags": ["no-such-tag"]}),
            Example("create/", "POST", json={**NEW_TOPIC, "colour": "blue"}),
            Example("create/", "POST", json=["not", "an", "object"]),
            Example("create/", "POST", body="{not json"),
            Example("create/", "POST", body="title=x", content_type="text/plain"),
            Example("create/"),
        ),
    ),
    Pair(
        name="topic_update",
        family="ORM: writes",
        route="topics/<slug:slug>/edit/",
        sync_view=writes.topic_update,
        async_view=writes.atopic_update,
        lesson=(
            "transaction.atomic() has no async form: lock the row, check the "
            "revision, save, all in one sync function behind one sync_to_async."
        ),
        examples=(
            Example(
                "topics/topic-1/edit/",
                "PATCH",
                json={"title": "Renamed"},
                volatile=VOLATILE,
            ),
            Example(
                "topics/topic-1/edit/",
                "PATCH",
                json={"revision": 1, "body": "Checked."},
                volatile=VOLATILE,
            ),
            Example("topics/topic-1/edit/", "PATCH", json={"revision": 7}),
            Example("topics/topic-1/edit/", "PATCH", json={"title": ""}),
            Example("topics/topic-1/edit/", "PATCH", json={"slug": "moved"}),
            Example("topics/no-such-topic/edit/", "PATCH", json={"title": "x"}),
            Example("topics/topic-1/edit/", "POST", json={"title": "x"}),
        ),
    ),
    Pair(
        name="topic_delete",
        family="ORM: writes",
        route="delete/<str:pk>/",
        sync_view=writes.topic_delete,
        async_view=writes.atopic_delete,
        lesson=(
            "adelete() on a filtered QuerySet; an id that is not a number is a "
            '404, not the ValueError aget(pk="abc") would raise.'
        ),
        examples=(
            Example("delete/{pk:topic-1}/", "DELETE"),
            Example("delete/abc/", "DELETE"),
            Example("delete/0/", "DELETE"),
            Example("delete/99999999999999999999/", "DELETE"),
            Example("delete/9223372036854775807/", "DELETE"),
            Example("delete/{pk:topic-1}/"),
        ),
    ),
    Pair(
        name="me",
        family="Auth and sessions",
        route="me/",
        sync_view=auth.me,
        async_view=auth.ame,
        lesson=(
            "login_required works on async views; read the user with "
            "`await request.auser()` and the session with aget()/aset()."
        ),
        examples=(
            "me/",
            Example("me/", user="demo"),
            Example("me/?theme=dark", user="demo"),
            Example("me/?theme=neon", user="demo"),
        ),
    ),
    Pair(
        name="log_in",
        family="Auth and sessions",
        route="auth/login/",
        sync_view=auth.log_in,
        async_view=auth.alog_in,
        lesson=(
            "A JSON login: `await aauthenticate()` then `await alogin(request, "
            "user)` (Django 5.0+), never alogin() with None; Django cycles the "
            "session key and rotates the CSRF token."
        ),
        examples=(
            Example(
                "auth/login/", "POST", json={"username": "demo", "password": "demo"}
            ),
            Example("auth/login/", "POST", json={"username": "demo", "password": "x"}),
            Example(
                "auth/login/",
                "POST",
                json={"username": "demo", "password": "demo"},
                user="demo",
            ),
            Example("auth/login/", "POST", json={"username": "demo"}),
            Example("auth/login/", "POST", json={"username": 1, "password": []}),
            Example("auth/login/", "POST", body="{not json"),
            Example("auth/login/"),
        ),
    ),
    Pair(
        name="log_out",
        family="Auth and sessions",
        route="auth/logout/",
        sync_view=auth.log_out,
        async_view=auth.alog_out,
        lesson=(
            "`await alogout(request)` flushes the session, logged in or not: 204. "
            "Django's LogoutView is a sync class view that redirects."
        ),
        examples=(
            Example("auth/logout/", "POST"),
            Example("auth/logout/", "POST", user="demo"),
            Example("auth/logout/"),
        ),
    ),
    Pair(
        name="topic_grants",
        family="Auth and sessions",
        route="auth/topics/<slug:slug>/grants/",
        sync_view=auth.topic_grants,
        async_view=auth.atopic_grants,
        lesson=(
            "permission_required(raise_exception=True) wraps async views (Django "
            "5.1+): a JSON 403 without the permission; `await user.ahas_perm()` "
            "(5.2+) for a check inside the view."
        ),
        examples=(
            "auth/topics/topic-1/grants/",
            Example("auth/topics/topic-1/grants/", user="demo"),
            Example("auth/topics/topic-1/grants/", user="editor"),
            Example("auth/topics/no-such-topic/grants/", user="editor"),
            Example("auth/topics/topic-1/grants/", "POST", user="editor"),
        ),
    ),
    Pair(
        name="topic_page",
        family="Templates",
        route="html/topics/",
        sync_view=pages.topic_page,
        async_view=pages.atopic_page,
        lesson=(
            "Hand the template a materialised page (a list), never a QuerySet, "
            "and render in one hop: the context processors ({{ user }}) may query."
        ),
        examples=(
            "html/topics/",
            "html/topics/?page=2",
            "html/topics/?page=abc",
            "html/topics/?page=999",
        ),
    ),
    Pair(
        name="upstream_fanout",
        family="Upstream: fan-out",
        route="upstream/fanout/",
        sync_view=fanout.upstream_fanout,
        async_view=fanout.aupstream_fanout,
        lesson=(
            "Three 100 ms calls: about 300 ms one after another, about 100 ms awaited "
            "together in a TaskGroup, on the process's one aiohttp session."
        ),
        examples=(
            "upstream/fanout/?delay=100",
            "upstream/fanout/?sources=profile,orders&delay=20",
            "upstream/fanout/?delay=20&broken=orders:500",
            "upstream/fanout/?delay=20&broken=recommendations:reset",
            "upstream/fanout/?sources=profile,nope",
            "upstream/fanout/?sources=http://127.0.0.2:8001/",
            "upstream/fanout/?delay=soon",
        ),
        variants=(
            Variant(
                name="threads",
                mode="sync",
                view=fanout.upstream_fanout_threads,
                lesson=(
                    "The fair sync rival: the same calls in a shared thread pool. As "
                    "fast at low load; a thread per call in flight, and none cancelled."
                ),
            ),
            Variant(
                name="gather",
                mode="async",
                view=fanout.aupstream_fanout_gather,
                lesson=(
                    "asyncio.gather: on a failure it waits for every call "
                    "(return_exceptions=True) where a TaskGroup cancels the rest."
                ),
            ),
        ),
    ),
    Pair(
        name="upstream_budget",
        family="Upstream: fan-out",
        route="upstream/budget/",
        sync_view=fanout.upstream_budget,
        async_view=fanout.aupstream_budget,
        lesson=(
            "One asyncio.timeout() around the whole fan-out: 504 JSON once the "
            "budget is spent, and every call still running is cancelled."
        ),
        examples=(
            "upstream/budget/?delay=50&budget=1000",
            "upstream/budget/?delay=400&budget=200",
            "upstream/budget/?budget=0",
        ),
    ),
    Pair(
        name="upstream_partial",
        family="Upstream: fan-out",
        route="upstream/partial/",
        sync_view=fanout.upstream_partial,
        async_view=fanout.aupstream_partial,
        lesson=(
            "Each source answers data or an error entry: 200 while one answered, "
            "502 when none did; no call outlives the request."
        ),
        examples=(
            "upstream/partial/?delay=20&broken=orders:500,recommendations:slow",
            "upstream/partial/?delay=20&broken=orders:redirect",
            "upstream/partial/?delay=20"
            "&broken=profile:reset,orders:close,recommendations:badjson",
            "upstream/partial/?broken=orders",
        ),
    ),
    Pair(
        name="upstream_bounded",
        family="Upstream: fan-out",
        route="upstream/bounded/",
        sync_view=fanout.upstream_bounded,
        async_view=fanout.aupstream_bounded,
        lesson=(
            "N calls, at most M in flight: an asyncio.Semaphore around each call "
            "keeps the upstream from being flooded."
        ),
        examples=(
            "upstream/bounded/?n=8&limit=4&delay=20",
            "upstream/bounded/?n=0",
            "upstream/bounded/?limit=99",
        ),
    ),
    Pair(
        name="upstream_stream",
        family="Upstream: fan-out",
        route="upstream/stream/",
        sync_view=fanout.upstream_stream,
        async_view=fanout.aupstream_stream,
        lesson=(
            "as_completed() feeding an async generator: each NDJSON line leaves as "
            "its source answers; the sync twin can only send them all at the end."
        ),
        examples=(
            "upstream/stream/?delay=20&stagger=100",
            "upstream/stream/?delay=20&stagger=100&broken=orders:500",
            "upstream/stream/?stagger=x",
        ),
    ),
    Pair(
        name="upstream_hedged",
        family="Upstream: resilience",
        route="upstream/hedged/",
        sync_view=resilience.upstream_hedged,
        async_view=resilience.aupstream_hedged,
        lesson=(
            "Ask a second replica when the first is slow, keep the first answer, "
            "cancel the loser: asyncio.wait(FIRST_COMPLETED)."
        ),
        examples=(
            "upstream/hedged/?primary_delay=300&backup_delay=20&hedge_after=50",
            "upstream/hedged/?primary_delay=10&backup_delay=10&hedge_after=300",
            "upstream/hedged/?hedge_after=-1",
        ),
    ),
    Pair(
        name="upstream_cached",
        family="Upstream: resilience",
        route="upstream/cached/",
        sync_view=resilience.upstream_cached,
        async_view=resilience.aupstream_cached,
        lesson=(
            "Django's async cache API, aget() and aset(), in front of the call; "
            "Redis when REDIS_URL is set."
        ),
        examples=(
            "upstream/cached/?source=orders&delay=50",
            "upstream/cached/?source=nope",
        ),
    ),
    Pair(
        name="upstream_retry",
        family="Upstream: resilience",
        route="upstream/retry/",
        sync_view=resilience.upstream_retry,
        async_view=resilience.aupstream_retry,
        lesson=(
            "Retry an idempotent GET with backoff after a timeout, a broken "
            "connection or a 5xx; never a POST, which may have taken effect."
        ),
        examples=(
            "upstream/retry/?fail_times=2",
            "upstream/retry/?fail_times=3",
            "upstream/retry/?fail_times=1&method=POST",
            "upstream/retry/?fail_times=0&method=POST",
            "upstream/retry/?method=PUT",
        ),
    ),
    Pair(
        name="export_create",
        family="Files and streaming",
        route="exports/",
        sync_view=exports.export_create,
        async_view=exports.aexport_create,
        lesson=(
            "aiofiles for the file, one thread hop per chunk of rows and per chunk "
            "written; a temporary file, fsync, then os.replace(): never half a file."
        ),
        examples=(
            Example("exports/?name=parity&format=csv", "POST"),
            Example("exports/?name=parity&format=jsonl&tag=django", "POST"),
            Example("exports/?format=csv&q=lag", "POST", volatile=("id",)),
            Example("exports/?format=xml", "POST"),
            Example("exports/?name=../../etc/passwd", "POST"),
            Example("exports/?name=a%00b", "POST"),
            Example("exports/?name=parity&tag=Not%20A%20Slug", "POST"),
            "exports/",
        ),
        variants=(
            Variant(
                name="pipeline",
                mode="async",
                view=exports.aexport_create_pipelined,
                lesson=(
                    "The seeds' producer and consumer: the database reader and the "
                    "file writer overlap; an asyncio.Queue(maxsize=4) bounds memory."
                ),
            ),
        ),
    ),
    Pair(
        name="export_download",
        family="Files and streaming",
        route="exports/files/<str:export_id>/",
        sync_view=exports.export_download,
        async_view=exports.aexport_download,
        lesson=(
            "Under ASGI a FileResponse's sync iterator is read whole into memory; "
            "an async iterator streams it in 64 KiB pieces, a thread hop each. "
            "Open once, size from the open file."
        ),
        examples=(
            "exports/files/demo.csv/",
            "exports/files/demo.jsonl/",
            "exports/files/missing.csv/",
            "exports/files/.hidden.csv/",
            "exports/files/demo.txt/",
        ),
    ),
    Pair(
        name="export_stream",
        family="Files and streaming",
        route="exports/stream/",
        sync_view=exports.export_stream,
        async_view=exports.aexport_stream,
        lesson=(
            "No file: an async generator streams the rows, a query per chunk read "
            "by key, and stops reading when the client leaves."
        ),
        examples=(
            "exports/stream/?format=csv",
            "exports/stream/?format=jsonl&tag=django",
            "exports/stream/?format=pdf",
        ),
    ),
    Pair(
        name="export_enqueue",
        family="Background tasks",
        route="exports/tasks/",
        sync_view=tasks.export_enqueue,
        async_view=tasks.aexport_enqueue,
        lesson=(
            "`enqueue()` / `await aenqueue()` (django.tasks, Django 6.0+; the "
            "django-tasks backport on 5.2): the worker writes the file; 202 at once."
        ),
        examples=(
            Example(
                "exports/tasks/?name=parity&format=csv",
                "POST",
                volatile=("id", "status_url"),
            ),
            Example(
                "exports/tasks/?format=jsonl&tag=django",
                "POST",
                volatile=("id", "status_url"),
            ),
            Example("exports/tasks/?format=xml", "POST"),
            Example("exports/tasks/?name=../../etc/passwd", "POST"),
            "exports/tasks/",
        ),
    ),
    Pair(
        name="task_status",
        family="Background tasks",
        route="tasks/<str:task_id>/",
        sync_view=tasks.task_status,
        async_view=tasks.atask_status,
        lesson=(
            "`get_result()` / `await aget_result()`: READY, RUNNING, then SUCCESSFUL "
            "with the file's download URL, or FAILED; an unknown id is a 404."
        ),
        examples=(
            "tasks/00000000-0000-0000-0000-000000000000/",
            "tasks/not-a-task-id/",
            Example("tasks/not-a-task-id/", "POST"),
        ),
    ),
    Pair(
        name="tag_page",
        family="Templates",
        route="html/tags/<slug:tag>/",
        sync_view=layout.tag_page,
        async_view=layout.atag_page,
        lesson=(
            "A layout reads `user.profile`, a context processor's QuerySet and a "
            "querying inclusion tag: render it in one `sync_to_async` hop."
        ),
        examples=(
            "html/tags/django/",
            Example("html/tags/django/", user="demo"),
            "html/tags/django/?limit=2",
            "html/tags/django/?limit=lots",
            "html/tags/no-such-tag/",
        ),
        variants=(
            Variant(
                name="loaded",
                mode="async",
                view=layout.atag_page_loaded,
                lesson=(
                    "Load all the layout reads first (`aload_layout()`) and render "
                    "plain data on the loop: no query in the render, more hops."
                ),
            ),
        ),
    ),
    Pair(
        name="topic_form_page",
        family="Templates",
        route="html/topics/new/",
        sync_view=form_pages.topic_form_page,
        async_view=form_pages.atopic_form_page,
        lesson=(
            "A ModelForm queries to validate and to render its select: validate and "
            "save in one hop, render in another; success redirects with a message."
        ),
        examples=(
            "html/topics/new/",
            Example("html/topics/new/", user="demo"),
            Example(
                "html/topics/new/",
                "POST",
                body=NEW_TOPIC_FORM,
                content_type=FORM_ENCODED,
                user="demo",
            ),
            Example(
                "html/topics/new/",
                "POST",
                body=NEW_TOPIC_FORM.replace("slug=layouts-in-async", "slug=topic-1"),
                content_type=FORM_ENCODED,
                user="demo",
            ),
            Example(
                "html/topics/new/",
                "POST",
                body=NEW_TOPIC_FORM.replace("author=Ada+Lovelace", "author=Nobody"),
                content_type=FORM_ENCODED,
                user="demo",
            ),
            Example("html/topics/new/", "POST", body="", content_type=FORM_ENCODED),
        ),
    ),
    Pair(
        name="upstream_errors",
        family="Upstream: errors",
        route="upstream/errors/",
        sync_view=httperrors.upstream_errors,
        async_view=httperrors.aupstream_errors,
        lesson=(
            "requests and aiohttp raise different, overlapping exceptions: one "
            "helper pair catches them in the right order (timeouts before "
            "connection errors, bad JSON before the client's base class) and "
            "raises one HTTPCallError."
        ),
        examples=(
            "upstream/errors/",
            "upstream/errors/?fail=connect",
            "upstream/errors/?fail=timeout",
            "upstream/errors/?fail=status",
            "upstream/errors/?fail=badjson",
            "upstream/errors/?fail=html",
            "upstream/errors/?fail=nope",
            Example("upstream/errors/", user="demo"),
            Example("upstream/errors/?fail=timeout", user="demo"),
        ),
    ),
    Pair(
        name="topic_tags",
        family="ORM: many-to-many",
        route="tags/topics/",
        sync_view=tags.topic_tags,
        async_view=tags.atopic_tags,
        lesson=(
            'Prefetch("tags", queryset=Tag.objects.order_by("name")): every row\'s '
            "tags in one more query, in an order the SQL sets, so both twins and "
            "every database agree; `async for` runs the prefetch in the same hop."
        ),
        examples=(
            "tags/topics/",
            "tags/topics/?tag=django&per_page=5",
            "tags/topics/?page=2&per_page=3",
            Example("tags/topics/?per_page=4", user="demo"),
            "tags/topics/?tag=no-such-tag",
            "tags/topics/?tag=Not%20A%20Slug",
            "tags/topics/?page=0",
        ),
    ),
    Pair(
        name="bookmark_list",
        family="ORM: many-to-many",
        route="bookmarks/",
        sync_view=tags.bookmark_list,
        async_view=tags.abookmark_list,
        lesson=(
            "django-taggit refuses Prefetch(queryset=...), and its prefetch has no "
            'ORDER BY: prefetch_related("tags"), then sort each row\'s tags in '
            "Python, the same in both twins."
        ),
        examples=(
            "bookmarks/",
            "bookmarks/?tag=asyncio",
            "bookmarks/?per_page=2&page=2",
            Example("bookmarks/?tag=django", user="demo"),
            "bookmarks/?tag=no-such-tag",
            "bookmarks/?tag=Not%20A%20Slug",
            "bookmarks/?per_page=lots",
        ),
    ),
    Pair(
        name="topic_tags_edit",
        family="ORM: many-to-many",
        route="tags/topics/<slug:slug>/",
        sync_view=relations.topic_tags_edit,
        async_view=relations.atopic_tags_edit,
        lesson=(
            "Create the missing tags, add() or set() them, check the count: one "
            "transaction, so one sync service behind one sync_to_async; awaited "
            "a*() calls would each commit on their own."
        ),
        examples=(
            Example("tags/topics/topic-1/", "POST", json={"tags": ["python", "new"]}),
            Example("tags/topics/topic-1/", "PUT", json={"tags": ["django", "orm"]}),
            Example("tags/topics/topic-1/", "PUT", json={"tags": []}),
            Example(
                "tags/topics/topic-1/", "DELETE", json={"tags": ["aiohttp", "nope"]}
            ),
            Example(
                "tags/topics/topic-1/",
                "POST",
                json={"tags": [f"new-{number}" for number in range(20)]},
            ),
            Example(
                "tags/topics/topic-1/",
                "PUT",
                json={"tags": [f"new-{number}" for number in range(21)]},
            ),
            Example("tags/topics/topic-1/", "POST", json={"tags": ["Not A Slug"]}),
            Example("tags/topics/topic-1/", "POST", json={"tags": "django"}),
            Example("tags/topics/topic-1/", "POST", json={}),
            Example("tags/topics/topic-1/", "POST", body="{not json"),
            Example("tags/topics/no-such-topic/", "POST", json={"tags": ["django"]}),
            "tags/topics/topic-1/",
        ),
        variants=(
            Variant(
                name="native",
                mode="async",
                view=relations.atopic_tags_edit_native,
                lesson=(
                    "abulk_create(), aadd()/aset()/aremove(), then "
                    "aprefetch_related_objects(): a hop and a commit each, so the "
                    "rule is checked before writing, and two concurrent edits can "
                    "both pass it."
                ),
            ),
        ),
    ),
    Pair(
        name="topic_resource",
        family="Class-based views",
        route="cbv/topics/<slug:slug>/",
        sync_view=cbv.TopicView.as_view(),
        async_view=cbv.AsyncTopicView.as_view(),
        lesson=(
            "A View whose handlers are all `async def` runs on the event loop; "
            "Django's auth mixins check in a sync dispatch(): use topics.mixins."
        ),
        examples=(
            "cbv/topics/topic-1/",
            "cbv/topics/no-such-topic/",
            Example("cbv/topics/topic-1/", "DELETE"),
            Example("cbv/topics/topic-1/", "DELETE", user="demo"),
            Example("cbv/topics/topic-1/", "POST"),
            Example("cbv/topics/topic-1/", "OPTIONS"),
        ),
    ),
    Pair(
        name="topic_list_view",
        family="Class-based views",
        route="cbv/html/topics/",
        sync_view=cbv.TopicListView.as_view(),
        async_view=cbv.AsyncTopicListView.as_view(),
        lesson=(
            "ListView is sync: its twin is a View with `async def get` that builds "
            "ListView's context in one hop and renders in another."
        ),
        examples=(
            "cbv/html/topics/",
            "cbv/html/topics/?page=2",
            "cbv/html/topics/?page=last",
            "cbv/html/topics/?page=abc",
            "cbv/html/topics/?page=999",
            Example("cbv/html/topics/", user="demo"),
        ),
    ),
    Pair(
        name="topic_detail_view",
        family="Class-based views",
        route="cbv/html/topics/<slug:slug>/",
        sync_view=cbv.TopicDetailView.as_view(),
        async_view=cbv.AsyncTopicDetailView.as_view(),
        lesson=(
            "DetailView behind LoginRequiredMixin: aget_object_or_404, one render "
            "hop, and topics.mixins.LoginRequiredMixin, which awaits auser()."
        ),
        examples=(
            "cbv/html/topics/topic-1/",
            Example("cbv/html/topics/topic-1/", user="demo"),
            Example("cbv/html/topics/no-such-topic/", user="demo"),
        ),
    ),
    Pair(
        name="topic_share",
        family="Signals",
        route="share/<slug:slug>/",
        sync_view=signals.topic_share,
        async_view=signals.atopic_share,
        lesson=(
            "A custom signal with async receivers: `await signal.asend_robust()` "
            "runs them on the loop, together; the sync twin's send_robust() runs "
            "them through one async_to_sync(). The response carries their answers."
        ),
        examples=(
            Example("share/topic-1/", "POST", json={"to": "reader@example.com"}),
            Example("share/topic-1/", "POST", json={"to": "not an address"}),
            Example("share/topic-1/", "POST", json={"to": 7}),
            Example("share/topic-1/", "POST", json={}),
            Example("share/no-such-topic/", "POST", json={"to": "reader@example.com"}),
            "share/topic-1/",
        ),
    ),
]
