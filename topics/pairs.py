"""The pair registry: every pattern declared once.

The URLconf, the index page, the parity tests, the system checks and the
benchmark all read PAIRS. Adding a pattern = one entry here and two views.
"""

from topics.registry import Example, Pair, Variant
from topics.views import auth, cbv, exports, fanout, orm, pages, resilience, writes

# Creating and updating change these in every response.
VOLATILE = ("id", "created", "updated")
NEW_TOPIC = {
    "title": "Streaming exports",
    "slug": "streaming-exports",
    "body": "Write to a temporary file, then os.replace().",
    "author": "Ada Lovelace",
    "tags": ["django", "streaming"],
}

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
        name="topic_page",
        family="Templates",
        route="html/topics/",
        sync_view=pages.topic_page,
        async_view=pages.atopic_page,
        lesson=(
            "Hand the template a materialised page (a list), never a QuerySet: "
            "rendering in async code must not query."
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
]
