"""The bench's profile: each py-spy sample goes to its thread hop or thread, then
to its innermost component."""

from pathlib import Path

from tests.bench_support import NEEDS_BENCH_REQUIREMENTS

pytestmark = NEEDS_BENCH_REQUIREMENTS


def _stack(*frames: str) -> str:
    return ";".join(frames)


LOOP = "Runner.run (asyncio/runners.py:118)"
THREAD = _stack(
    "Thread._bootstrap (threading.py:995)",
    "Thread._bootstrap_inner (threading.py:1038)",
    "Thread.run (threading.py:975)",
)
BETWEEN_CALLS = _stack(THREAD, "_worker (concurrent/futures/thread.py:83)")
WORKER = _stack(
    BETWEEN_CALLS,
    "_WorkItem.run (concurrent/futures/thread.py:58)",
    "SyncToAsync.thread_handler (asgiref/sync.py:600)",
)
HANDLE = _stack(
    LOOP,
    "ASGIHandler.__call__ (django/core/handlers/asgi.py:166)",
    "ASGIHandler.handle (django/core/handlers/asgi.py:233)",
)
HOP = _stack(
    "SyncToAsync.__call__ (asgiref/sync.py:557)",
    "ThreadPoolExecutor.submit (concurrent/futures/thread.py:175)",
)
CHAIN = _stack(
    LOOP,
    "BaseHandler.get_response_async (django/core/handlers/base.py:162)",
    "convert_exception_to_response.<locals>.inner"
    " (django/core/handlers/exception.py:42)",
)


def test_a_sample_belongs_to_its_hop_or_thread_then_its_innermost_component(
    tmp_path: Path,
) -> None:
    """Stacks as py-spy reads them from Django's ASGI handler (abridged)."""
    from project.bench.profile import breakdown

    raw = tmp_path / "raw.txt"
    raw.write_text(
        "\n".join(
            [
                # The handler enters a ThreadSensitiveContext; the first hop
                # starts the request's thread; asgiref joins it at the end.
                _stack(
                    LOOP,
                    "ASGIHandler.__call__ (django/core/handlers/asgi.py:165)",
                    "ThreadSensitiveContext.__aenter__ (asgiref/sync.py:173) 1",
                ),
                _stack(
                    LOOP,
                    HOP,
                    "ThreadPoolExecutor._adjust_thread_count"
                    " (concurrent/futures/thread.py:199)",
                    "Thread.start (threading.py:964) 3",
                ),
                _stack(
                    THREAD,
                    "ThreadSensitiveContext.__aexit__.<locals>.join"
                    " (asgiref/sync.py:195)",
                    "ThreadPoolExecutor.shutdown (concurrent/futures/thread.py:235) 1",
                ),
                # Signal.asend's sync_to_async runs as a task: at the stack's root.
                _stack(LOOP, HOP + " 4"),
                _stack(
                    WORKER,
                    "Signal.asend.<locals>.sync_send"
                    " (django/dispatch/dispatcher.py:241)",
                    "close_old_connections (django/db/__init__.py:61) 1",
                ),
                # The handler awaits response.close() in a hop of its own.
                _stack(HANDLE, HOP + " 5"),
                _stack(
                    WORKER,
                    "HttpResponseBase.close (django/http/response.py:335)",
                    "Signal.send (django/dispatch/dispatcher.py:189) 1",
                ),
                # A MiddlewareMixin hook's hop, and a hop-free hook inline.
                _stack(
                    CHAIN,
                    "MiddlewareMixin.__acall__ (django/utils/deprecation.py:148)",
                    HOP + " 2",
                ),
                _stack(
                    CHAIN,
                    "HopFreeMixin.__acall__ (topics/hopfree/__init__.py:117)",
                    "HopFreeMixin._arun (topics/hopfree/__init__.py:110)",
                    "MessageMiddleware.process_request"
                    " (django/contrib/messages/middleware.py:12)",
                    "LazyObject.__getattribute__ (django/utils/functional.py:280) 2",
                ),
                # The view behind the stack: its innermost component, aiohttp.
                _stack(
                    CHAIN,
                    "MiddlewareMixin.__acall__ (django/utils/deprecation.py:150)",
                    "convert_exception_to_response.<locals>.inner"
                    " (django/core/handlers/exception.py:42)",
                    "aupstream_fanout (topics/views/fanout.py:40)",
                    "ClientResponse.json (aiohttp/client_reqrep.py:1) 2",
                ),
                # An asgiref Local read while resolving is the resolver's.
                _stack(
                    CHAIN,
                    "URLResolver.resolve (django/urls/resolvers.py:660)",
                    "_DefaultLocal.__getattr__ (asgiref/local.py:1) 1",
                ),
                # A worker thread between calls: which hop, the stack cannot tell.
                BETWEEN_CALLS + " 1",
                "mystery (elsewhere.py:1) 1",
            ]
        )
    )

    found = breakdown(raw, requests=10)

    assert found["samples"] == 25
    assert {name: ms for name, ms in found["ms_per_request"].items() if ms} == {
        "ThreadSensitiveContext: the request's thread": 2.5,  # 5 x 5 ms / 10
        "request_started: its receivers' hop": 2.5,
        "response.close(): request_finished's hop": 3.0,
        "Django middleware: hooks, their hops": 2.0,
        "aiohttp (the upstream calls)": 1.0,
        "URL resolving": 0.5,
        "threads: hand over, unattributed": 0.5,
        "other": 0.5,
    }
    assert found["ms_total"] == 12.5
    assert found["shares"]["response.close(): request_finished's hop"] == 0.24
