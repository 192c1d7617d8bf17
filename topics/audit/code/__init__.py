"""Static scan of a project's source for what blocks, or silently breaks, async views.

Every file is parsed with `ast` and never imported, so the scan runs on any code,
settings or no settings. What it reports:

code.blocking-call (error), inside the body of an `async def`:
    time.sleep(), requests.*, urllib.request.urlopen(), the sync httpx calls,
    builtin open(), subprocess.run/call/check_call/check_output/Popen,
    os.system/popen, and async_to_sync() or asyncio.run() (which raise there).
    Import aliases are resolved (`import time as t`, `from time import sleep`).

code.sync-orm, inside the body of an `async def`; a heuristic, since the scan
cannot know types:
    * error: a call chain rooted at `<Name>.objects` or `<Name>._default_manager`
      (or at a local name that only ever holds such a lazy chain, or a parameter
      annotated `QuerySet`) ending in a sync method: get, create, get_or_create,
      update_or_create, count, exists, first, last, latest, earliest, update,
      delete, aggregate, in_bulk, bulk_create, bulk_update, iterator, explain,
      contains;
    * error: evaluating a lazy chain the sync way: `for` or a comprehension over
      it, len(), list(), bool() and their kin, `if qs:`, `x in qs`, `qs[0]`;
    * error: get_object_or_404() / get_list_or_404(), and transaction.atomic()
      as a `with` block or a decorator of an async def;
    * warning: .save(), .delete(), .refresh_from_db(), .full_clean() on any other
      expression (it may not be a model), when it passes only what the model's
      method takes: no positional argument to save() or delete(), and only their
      keywords (save: force_insert, force_update, using, update_fields, and a
      ModelForm's commit; delete: using, keep_parents; refresh_from_db: using,
      fields, from_queryset; full_clean: exclude, validate_unique,
      validate_constraints), so `image.save(buffer, format="PNG")` and
      `cache.delete(key)` are not reported; a related manager's chain that
      queries prefetched or not (`obj.rel.all().filter(...)`, `.first()`); a
      lazy chain handed to render();
      request.user and request.session read the sync way, unless `request` is
      a parameter annotated with types imported from outside Django and the
      project (Starlette's or FastAPI's Request, HTTPConnection, WebSocket: no
      query there; DRF's, adrf's and django-ninja's wrap Django's and count as
      Django's; so does a type from a package in the file's own path); the ORM
      in a thread Django does not manage (see below); the sync Paginator;
    * error: sync_to_async(lambda: <lazy chain>), whose query runs later, on the
      loop;
    * a related manager's `obj.rel.all()` evaluated (iterated, len(), .count(),
      .exists(), .contains()...), or a local name that only ever holds such a
      chain (`files = obj.rel.all()`): free when the relation was prefetched,
      so the level follows what the function shows about where `obj` came from.
      A warning when every binding of `obj` there is a load from a visible chain
      (`await <chain>.aget()`/afirst/alast/aearliest/alatest,
      aget_object_or_404(Model or chain), `async for obj in <chain>`, `for obj
      in rows` with `rows = [x async for x in <chain>]`) and none of them
      prefetches `rel` (prefetch_related("rel"), "rel__...", or Prefetch("rel")
      without to_attr; select_related does not count); nothing when all of them
      do; info otherwise (a parameter, a helper's result, an attribute, loads
      both with and without the prefetch, lookups not written out);
    A chain with an `a` method (aget, acount, aiterator...), awaited, or iterated
    with `async for`, is fine, and so is building one lazily without evaluating
    it (`qs = Model.objects.filter(x=1)`).

Calls followed (calls.py). Every sync function and method a module defines at
its top level (not a generator, not wrapped by sync_to_async) is checked as if it
ran on the loop, and what it does is kept as its effects; a plain call from async
code to a function of the project (same module, self.x()/cls.x() of the class,
Class.x(), a method of an instance loaded there from Model.objects, a name or
module imported from the project, relatively or not) is followed through them,
DEPTH calls deep, and the worst effect reached (errors first, then the shortest
chain) is reported at the call site, with its code and level and the chain:
`self.tag(...) is sync code called on the event loop ... (tag() → request.user)`.
So are the bridges: a sync helper that calls async_to_sync() or asyncio.run().
Modules scanned together (scan_tree, scan_trees: a project's packages) follow
calls between them. Info effects stay where they are.

code.sync-orm (error) for a forward relation (ForeignKey, OneToOneField,
ParentalKey, read from the model's class body, its bases followed) read as an
attribute in async code on an instance loaded there (await <chain>.aget(),
afirst()..., aget_object_or_404(Model), async for) from a chain with neither
select_related() of it (or of all) nor prefetch_related() of it; `x_id` is
fine. (warning) sync_to_async(helper), where the helper returns a lazy QuerySet;
(error) sync_to_async(Model.objects.filter) and other lazy QuerySet methods.

code.not-awaited (error), anywhere: a call to a known coroutine function whose
result is dropped (a bare statement), used as a value (`if coro():`, `coro() + 1`),
or assigned to a name that is never awaited nor handed on. Known coroutine
functions: an `async def` of the same module (by name; `self.x()`/`cls.x()` for an
`async def x` of the enclosing class), asyncio.sleep/gather/wait_for/wait/shield/
to_thread, an `a` method on an ORM chain, .asave()/.adelete()/.arefresh_from_db()/
.auser() on anything, aget_object_or_404(), and `sync_to_async(f)(...)`.
Calls passed as arguments (to create_task, gather...) are not findings.

code.dropped-task (warning), anywhere: `asyncio.create_task(...)` or
`asyncio.ensure_future(...)` as a bare statement: the loop holds tasks weakly.

code.sync-orm, form and serializer validation inside an `async def`, on a
name the function binds only to `SomeForm(...)` (or on `SomeForm(...)` itself):
is_valid(), full_clean(), validate_unique(), `.errors` read before any
validation (it runs full_clean(); not after the form was validated or handed to
a call, say to sync_to_async), and save() (not commit=False). The class is read
from this module: an error when it shows a field or validator that looks its
value up (ModelChoiceField, ModelMultipleChoiceField, PrimaryKeyRelatedField,
SlugRelatedField, UniqueValidator...) or a clean*()/validate*() method that
queries, and for save() on a ModelForm or ModelSerializer; a warning for
is_valid() on a ModelForm or ModelSerializer (it queries for related and unique
fields, which only the model shows) and for a class imported from elsewhere
whose name ends in Form, Serializer or FormSet (or from a forms or serializers
module); nothing for a plain Form or Serializer of the module with plain
fields. AuthenticationForm and the user creation forms are errors. adrf's
ais_valid() and asave() are fine. instance.validate_unique() and
validate_constraints() on anything else: a warning, as full_clean().

code.sync-iterator (warning), inside an `async def`: StreamingHttpResponse given
a visibly sync iterable (a generator function of the module, a local one or a
method via self; a generator expression without async for; iter(), map(),
filter(), zip(), itertools.chain()...; a name only ever bound to one), and any
FileResponse (a file's sync iterator): under ASGI Django reads either whole, in
a thread (sync_to_async(list)), before sending the first byte. A list or tuple
is not reported (nothing waits per chunk), nor an iterable the module does not
show (a parameter, another module's function).

code.sync-dispatch (error), a class whose handlers (get, post...) are all
`async def` while its dispatch() is sync and does more than `return
super().dispatch(...)`: LoginRequiredMixin, PermissionRequiredMixin or
UserPassesTestMixin among its bases (or its bases' of this module), a mixin
of this module whose dispatch() reads request.user or returns a response of its
own, or dispatch() decorated, directly or by @method_decorator(...,
name="dispatch"), with login_required, permission_required, user_passes_test,
staff_member_required, never_cache, cache_control, cache_page or vary_on_*.
The sync dispatch() runs on the loop: SynchronousOnlyOperation for a logged-in
user, a TypeError for its redirect where Django awaits the handler.
csrf_exempt, and auth decorators applied to the handlers, are fine.

code.sync-decorator (error), a decorator of this module on an async view (a
function whose first parameter is `request`, or a method's after self) that
returns a sync wrapper calling the view (directly, or through a decorator
factory), with no async branch (iscoroutinefunction, markcoroutinefunction,
an async def inside): Django calls the view as sync and gets an unawaited
coroutine back (ValueError). The project-level urls.sync-decorator reports the
routed ones, with Django loaded.

code.dropped-task (warning) too: `loop.create_task(...)` or
`loop.run_in_executor(...)` as a bare statement, where `loop` is
asyncio.get_running_loop()/get_event_loop() written inline or a name only ever
bound to one (a run_in_executor dropped loses its exceptions, and its work may
outlive the request); `task = asyncio.create_task(...)` (or loop.create_task) in a
function that never reads `task` and awaits nothing after it. A task held while
the function awaits, or handed on (a set, add_done_callback), is kept.

code.sync-orm (warning), anywhere: the ORM in a thread Django does not manage,
whose connection it never closes (one stays open per pool thread, past
CONN_MAX_AGE and a database restart): asyncio.to_thread(f),
loop.run_in_executor(executor, f), sync_to_async(f, thread_sensitive=False) or
@sync_to_async(thread_sensitive=False) over a def, where `f` is
`Model.objects.<method>`, a lambda, a def of the module or a method of the class
(self.f) whose own body runs a sync chain method, evaluates a lazy chain (for,
list()...), or calls .save()/.delete() as a model's; not when it calls
close_old_connections(), connection.close() or connections.close_all().
channels' database_sync_to_async closes its connections itself.

code.thread-deadlock, anywhere: sync_to_async(f) thread-sensitive (the default)
where `f` is a bound method that waits without a timeout (`q.get`, `event.wait`,
`future.result`, `thread.join`, `lock.acquire`, `condition.wait`, `barrier.wait`),
or a lambda, a def of the module or self.method whose own body does; the waited-on
object is a name or self.attr that every binding in the module makes a
queue.Queue (and kin), threading.Event/Lock/RLock/Semaphore/Condition/Barrier/
Thread, multiprocessing.Queue/Event or concurrent.futures.Future (assigned or
annotated). Every thread-sensitive call of a request runs on one thread:
    * error when the module also hands what ends the wait (q.put, event.set,
      future.set_result, lock.release, condition.notify) on the same object, as
      written, to a thread-sensitive sync_to_async (an argument, a lambda, a def
      of the module, a def decorated with it): queued behind the wait, it never
      runs, and the request hangs for good (asgiref 3.13, reproduced);
    * warning otherwise: the wait holds the request's thread, and whatever
      thread-sensitive work it needs never comes.
asyncio.to_thread(), thread_sensitive=False, get_nowait() and a timeout are fine.

code.startup-query (warning): a query run at start-up: a sync chain method,
a lazy chain evaluated (for, a comprehension, list()...), save()/delete() as a
model's, connection.cursor() (or connections[...]), and the sync cache API on
django.core.cache's cache or caches[...], in the body of `ready()` of a class
whose base is named *AppConfig (not its nested functions), or at the module level
(class bodies and default values included) of any module but tests (test*.py,
tests.py, conftest.py, tests/), scripts (a top-level `if __name__` or
django.setup(), manage.py, scripts/, bin/) and management commands
(management/); not inside a try with an except clause (guarded on purpose). A
lazy QuerySet (queryset=Model.objects.all()) and a callable choices= are fine.

More, inside the body of an `async def` (blocking.py):
    * code.sync-cache (warning): Django's sync cache API, cache.get/set/add/
      incr/decr/get_or_set/get_many/set_many/delete/delete_many/touch/has_key/
      clear, on django.core.cache.cache or caches["alias"] (through imports, or
      a name only ever bound to them; never a `self.cache` or a dict): with
      Redis or Memcached each blocks on the network; the fix is its `a` twin
      (get_or_set() with a lambda: aget_or_set() would call it on the loop too);
    * code.blocking-call, error: reading or writing whole files, trees or the
      network: shutil.copy*/move/rmtree/make_archive, tempfile.NamedTemporaryFile/
      TemporaryFile/mkstemp, os.walk, pathlib's read_text/read_bytes/write_text/
      write_bytes/open on a Path (Path(...), settings.BASE_DIR / "x", p.parent,
      a name bound to one), socket.create_connection/getaddrinfo/gethostbyname,
      connect/recv/send on a name bound to socket.socket(), smtplib.SMTP,
      django.core.mail.send_mail/send_mass_mail/mail_admins/mail_managers and
      EmailMessage(...).send(), any `.run_until_complete()`, django.tasks'
      `.enqueue()`/`.get_result()` on a task (fix: aenqueue()/aget_result());
    * code.blocking-call, warning, on Django < 6.1 only: `await aauthenticate()`,
      which hashes the password on the event loop there;
    * code.blocking-call, warning: one file system call (os.remove/unlink/rename/
      replace/mkdir/makedirs/rmdir/listdir/scandir..., Path.mkdir/unlink/touch/
      iterdir/glob..., tempfile.mkdtemp/TemporaryDirectory), `.delay()`/
      `.apply_async()` on a function of the module decorated @shared_task,
      @app.task (or rq's @job), or imported from a `tasks` module, a signal's
      .send()/.send_robust() (Django's, a module's `x = Signal()`, a name from a
      `signals` module; fix: asend()), default_storage/storages["x"] save/open/
      exists/delete/size/listdir (S3 and other remote storages);
      not reported: os.path.exists() and its kin, os.stat(), Path.exists(): one
      stat each, cheap and everywhere;
    * code.sync-orm, error: django.contrib.auth's authenticate/login/logout/
      get_user/update_session_auth_hash (aauthenticate... Django 5.0+);
    * code.sync-orm, warning: `Model.objects.<method>()` named as a query a
      QuerySet does not have (create_user, create_superuser, get_by_natural_key,
      get_for_model, create_*, bulk_*, get_by_*...) and not chained on; a
      reverse related manager, `author.book_set.count()`/first()/get()...
      (the `_set` name), leveled as obj.rel.all().count() is, and a query
      whatever the prefetch when filtered first.
code.not-awaited also reports a coroutine kept in a name and read as a value
through a container literal: {"total": total} handed to a response (a class
named *Response), a serializer (*Serializer), render(), render_to_string(),
json.dumps() or str(), directly or through one name (`context = {...}`). In a
literal handed to gather(*...), a loop or any other call it may be awaited
there, and is not reported; nor is a coroutine returned by a sync function, or
stored on an attribute (another method may await it).

Nested plain `def`s and lambdas inside an `async def` run elsewhere (in a thread,
usually), so their bodies count as sync code.

Known limits: names are resolved per module, without types or flow: a QuerySet
passed in unannotated, returned by a helper, or stored on an attribute is not
followed; a relation read on an instance that came from elsewhere (a parameter,
a helper) and deferred fields are not seen; a call on an object whose class is
not visible (obj.method(), obj a parameter) is not followed, nor are calls into
installed packages, nor is a function imported from another module handed to
sync_to_async (thread_sensitive=False), to_thread or run_in_executor; a
coroutine function imported from another module is not known; a form class, a
generator, a mixin or a decorator imported from another module is judged by its
name or not at all (a form parameter re-bound in the function is not followed);
a shadowed or re-bound name may be resolved wrongly; a request type imported
from another package of the project (an HttpRequest subclass in `core.http`,
used from `shop/views.py`) is taken for a framework's that is not Django.
Silence a finding with a trailing `# async-audit: ignore`, or `# async-audit:
ignore[code.sync-orm, code.blocking-call]` for some codes only.
"""

from topics.audit.code.files import scan_file, scan_source, scan_tree, scan_trees

__all__ = ["scan_file", "scan_source", "scan_tree", "scan_trees"]
