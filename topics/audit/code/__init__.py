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
      inside asyncio.to_thread() (a thread whose connection Django never closes); the
      sync Paginator;
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
      EmailMessage(...).send(), any `.run_until_complete()`;
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
followed; lazy relations and deferred fields read as attributes are not seen;
a sync helper called from async code is not followed into; a coroutine function
imported from another module is not known; a shadowed or re-bound name may be
resolved wrongly; a request type imported from another package of the project
(an HttpRequest subclass in `core.http`, used from `shop/views.py`) is taken for
a framework's that is not Django. Silence a finding with a trailing
`# async-audit: ignore`, or `# async-audit: ignore[code.sync-orm,
code.blocking-call]` for some codes only.
"""

from topics.audit.code.files import scan_file, scan_source, scan_tree

__all__ = ["scan_file", "scan_source", "scan_tree"]
