"""Export files: any QuerySet's rows as CSV or JSON Lines, read by key a chunk
at a time, written atomically into a folder with a quota, read back in pieces,
or streamed with no file at all. Sync twins use open(), async ones aiofiles.

Django, asgiref, aiofiles and the errors of topics/api.py, imported from beside
it; no setting is read and no model named: the folder, its quota and the
columns come in as arguments. Copy the file, next to api.py.

A writer writes a temporary file beside the final one, fsyncs it, then
os.replace()s it over the final name: a reader never sees half a file, and a
failed export leaves the last one intact.
"""

import asyncio
import contextlib
import csv
import errno
import io
import json
import logging
import math
import os
import re
import time
import uuid
from collections.abc import (
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Sequence,
)
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import Any, BinaryIO

import aiofiles
import aiofiles.os
from asgiref.sync import sync_to_async
from django.core.exceptions import FieldDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.db.models import Q, QuerySet

from .api import (
    DATABASE_UNAVAILABLE,
    ApiError,
    Conflict,
    InvalidParameter,
    NotFound,
)

logger = logging.getLogger(__name__)

# The formats the encoders write, and the Content-Type of each.
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
# Rows per database fetch and per file write: one thread hop each, not per row.
CHUNK_ROWS = 2000
READ_BYTES = 64 * 1024
# Encoded chunks the pipelined export holds between its reader and writer.
PIPELINE_CHUNKS = 4
# Letters, digits, "-" and "_": no "..", no "/", no NUL; an id adds the format.
EXPORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
EXPORT_ID = re.compile(rf"{EXPORT_NAME.pattern}\.(?:csv|jsonl)")
# What temporary_path() makes: "." + the export id + "." + 32 hex digits + ".tmp".
TEMPORARY_NAME = re.compile(rf"\.{EXPORT_ID.pattern}\.[0-9a-f]{{32}}\.tmp")
NAME_RULE = "1 to 64 letters, digits, - or _, not starting with - or _"
NAME_IS_A_FOLDER = "A folder in the export folder has this name; choose another."

Row = dict[str, Any]


class InsufficientStorage(ApiError):
    def __init__(self) -> None:
        message = "The disk is full; nothing was written."
        super().__init__("insufficient_storage", message, status=507)


class ExportQuotaExceeded(ApiError):
    def __init__(self) -> None:
        # The client can do what it does for a full disk: wait, or delete exports.
        super().__init__(
            "insufficient_storage",
            "The export folder holds as many files or bytes as it may; "
            "nothing was written.",
            status=507,
        )


@dataclass(frozen=True)
class ExportResult:
    """A written export: its id (the file's name), rows and size in bytes."""

    id: str
    rows: int
    bytes: int

    def payload(self) -> dict[str, Any]:
        return {"id": self.id, "rows": self.rows, "bytes": self.bytes}


@dataclass(frozen=True)
class ExportFolder:
    """Where exports are written (made on the first write), and the most files
    and bytes it may hold."""

    root: Path
    max_files: int = 1000
    max_bytes: int = 1024**3


def export_path(root: Path, export_id: str, *, parameter: str = "id") -> Path:
    """The file of an export id in `root`, refusing anything that could leave it:
    InvalidParameter (400) names `parameter`."""
    if not EXPORT_ID.fullmatch(export_id):
        rule = NAME_RULE if parameter == "name" else f"{NAME_RULE}, then .csv or .jsonl"
        raise InvalidParameter(parameter, f"must be {rule}.")
    root = root.resolve()
    path = root / export_id
    # The id cannot name another directory; a symlink could still point out.
    if path.is_symlink() or path.resolve().parent != root:
        raise InvalidParameter(parameter, "must name a file inside the export folder.")
    return path


@dataclass(frozen=True)
class ExportFile:
    """An export opened for reading; its size is the open file's, not the name's."""

    path: Path
    file: BinaryIO
    size: int

    @property
    def content_type(self) -> str:
        return FORMATS[self.path.suffix.removeprefix(".")]


def open_export(root: Path, export_id: str) -> ExportFile:
    """The export's file in `root`, opened once, with its size in bytes; the
    caller closes .file. Raises NotFound (404) if there is none,
    InvalidParameter (400) for a malformed id."""
    path = export_path(root, export_id)
    try:
        file = open(path, "rb")  # noqa: SIM115 -- the caller closes it
    except (FileNotFoundError, IsADirectoryError):
        raise NotFound(f"No export has the id {export_id!r}.") from None
    # A re-export replaces the name, never this open file: size and bytes agree.
    return ExportFile(path=path, file=file, size=os.fstat(file.fileno()).st_size)


async def aopen_export(root: Path, export_id: str) -> ExportFile:
    """See open_export(); safe to cancel: a file opened meanwhile is closed."""
    opening = asyncio.ensure_future(asyncio.to_thread(open_export, root, export_id))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            (await opening).file.close()
        raise


def check_quota(final: Path, *, max_files: int, max_bytes: int) -> None:
    """Raise ExportQuotaExceeded (507) if final's folder holds max_files files or
    max_bytes bytes, not counting `final`, which the export replaces. Checked
    before writing: concurrent exports may each pass it."""
    files = size = 0
    with os.scandir(final.parent) as entries:
        for entry in entries:
            # Gone since the listing (renamed, purged): it no longer counts.
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file(follow_symlinks=False) and entry.path != str(final):
                    size += entry.stat(follow_symlinks=False).st_size
                    files += 1
    if files >= max_files or size >= max_bytes:
        raise ExportQuotaExceeded()


def _writable_path(folder: ExportFolder, export_id: str) -> Path:
    """The file an export of this name writes, if the quota leaves room."""
    folder.root.mkdir(parents=True, exist_ok=True)
    final = export_path(folder.root, export_id, parameter="name")
    check_quota(final, max_files=folder.max_files, max_bytes=folder.max_bytes)
    return final


def stale_files(
    root: Path, *, export_max_age: float, temporary_max_age: float
) -> list[Path]:
    """Exports in `root` not modified for export_max_age seconds, and temporaries
    not modified for temporary_max_age (their writer is gone: a live one writes
    every chunk). Nothing else is listed; no folder yet, nothing."""
    now = time.time()
    stale = []
    with contextlib.suppress(FileNotFoundError), os.scandir(root) as entries:
        for entry in entries:
            if TEMPORARY_NAME.fullmatch(entry.name):
                max_age = temporary_max_age
            elif EXPORT_ID.fullmatch(entry.name):
                max_age = export_max_age
            else:
                continue
            with contextlib.suppress(FileNotFoundError):
                stat = entry.stat(follow_symlinks=False)
                if S_ISREG(stat.st_mode) and now - stat.st_mtime > max_age:
                    stale.append(Path(entry.path))
    return stale


def remove_abandoned_temporaries(root: Path, *, max_age: float) -> None:
    """Remove the temporaries in `root` idle for max_age seconds, which a killed
    writer left, and log each; run it at startup (an ASGI lifespan hook).
    Workers may share the folder: one written to lately may be another's."""
    for path in stale_files(root, export_max_age=math.inf, temporary_max_age=max_age):
        path.unlink(missing_ok=True)
        logger.info("Removed %s, left by a writer that stopped.", path.name)


def temporary_path(final: Path) -> Path:
    """A temporary file of its own beside the final one: writers never share one."""
    return final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")


def header(fmt: str, columns: Sequence[str]) -> bytes:
    """What starts a file of this format (a FORMATS key): the CSV header row of
    these columns, or nothing."""
    if fmt != "csv":
        return b""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(columns)
    return buffer.getvalue().encode()


def encode_rows(rows: Iterable[Row], fmt: str, columns: Sequence[str]) -> bytes:
    """Rows (dicts holding every column) as CSV lines or JSON Lines, UTF-8."""
    if fmt == "jsonl":
        lines = (
            json.dumps({c: row[c] for c in columns}, cls=DjangoJSONEncoder)
            for row in rows
        )
        return "".join(f"{line}\n" for line in lines).encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(_csv_value(row[column]) for column in columns)
    return buffer.getvalue().encode()


# A spreadsheet runs a cell that starts with one of these as a formula
# (=HYPERLINK(…)): such text is written with a leading "'", as OWASP's "CSV
# Injection" advises. JSON Lines, read by programs, keeps the text as it is.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return f"'{value}"
    return value


def _ordering(rows: QuerySet) -> tuple[str, ...]:
    """The fields the rows are ordered by, "-" first when descending."""
    query = rows.query
    ordering = query.order_by or (query.default_ordering and query.get_meta().ordering)
    if not ordering or "?" in ordering:
        raise ValueError("Rows must be ordered by fields, the last one unique.")
    if not all(isinstance(field, str) for field in ordering):
        raise TypeError("Rows must be ordered by field names, not expressions.")
    # Ties on a last field that is not unique fall between two chunks, and NULL
    # is neither < nor = anything: either way rows would be skipped, silently.
    meta, last = query.get_meta(), ordering[-1].lstrip("-")
    for name in (field.lstrip("-") for field in ordering):
        try:
            field = meta.get_field(name)
        except FieldDoesNotExist:  # "pk", an annotation, or across a relation
            field = None
        if name == last != "pk" and not (field and field.unique):
            message = f"the last one unique; {name!r} is not."
            raise ValueError(f"Rows must be ordered by fields, {message}")
        if field and field.null:
            message = f"non-null fields; {name!r} is nullable."
            raise ValueError(f"Rows must be ordered by {message}")
    return tuple(ordering)


def _after(row: Row, ordering: tuple[str, ...]) -> Q:
    """The rows after `row`: for ("-created", "-id"), created < c OR (created = c
    AND id < i), and created <= c, which lets an index on created bound it."""
    keys = [(f.lstrip("-"), "lt" if f[0] == "-" else "gt") for f in ordering]
    *earlier, (name, past) = keys
    after = Q(**{f"{name}__{past}": row[name]})
    for name, past in reversed(earlier):
        after = Q(**{f"{name}__{past}": row[name]}) | (Q(**{name: row[name]}) & after)
    name, past = keys[0]
    return Q(**{f"{name}__{past}e": row[name]}) & after


def _page(rows: QuerySet, after: Row | None, size: int) -> list[Row]:
    """The `size` rows after `after`: one whole query, returning plain dicts."""
    # Checked at the first page, before a stream's status line: found wrong at
    # the second, it would cut a 200 after the first chunk.
    ordering = _ordering(rows)
    if after is not None:
        rows = rows.filter(_after(after, ordering))
    connection = connections[rows.db]
    try:
        page = list(rows[:size])
    finally:
        # Hand the connection back between chunks, by the rule Django applies
        # at a request's end (with a pool, closing returns it): a client that
        # reads slowly then holds no pooled connection. Never in a transaction.
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
    names = {field.lstrip("-") for field in ordering}
    if page and not (isinstance(page[-1], dict) and names <= page[-1].keys()):
        raise TypeError(f"Rows must be values() holding {sorted(names)}, to page.")
    return page


# A later chunk waits for a connection longer than a request does (the pool's
# timeout): its 200 is sent, and failing now would cut it. Past this, it fails.
LATER_CHUNK_WAIT = 30  # seconds
RETRY_PAUSE = 0.1  # seconds


def _later_page(rows: QuerySet, after: Row, size: int) -> list[Row]:
    """See _page(); retried while the database is busy or away, up to
    LATER_CHUNK_WAIT seconds, then its error (OperationalError) is raised."""
    deadline = time.monotonic() + LATER_CHUNK_WAIT
    while True:
        try:
            return _page(rows, after, size)
        except DATABASE_UNAVAILABLE:
            if time.monotonic() > deadline:
                raise
        time.sleep(RETRY_PAUSE)


async def _alater_page(rows: QuerySet, after: Row, size: int) -> list[Row]:
    """See _later_page()."""
    deadline = time.monotonic() + LATER_CHUNK_WAIT
    while True:
        try:
            return await sync_to_async(_page)(rows, after, size)
        except DATABASE_UNAVAILABLE:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(RETRY_PAUSE)


def chunks(rows: QuerySet, size: int = CHUNK_ROWS) -> Iterator[list[Row]]:
    """Rows of values(), `size` at a time: a query per chunk, read by key.

    The rows must be ordered by fields (order_by()) whose last one is unique,
    and hold those fields: else ValueError or TypeError, at the first chunk.
    The first chunk fails at once (a stream primes it: a 503); a later one
    waits for the database (see _later_page()).
    """
    # Not iterator(): its cursor would stay open between chunks, and a reader
    # that stops early would leave it to the garbage collector, which closes
    # it after Django has closed (or lent out) its connection.
    batch = _page(rows, None, size)
    while batch:
        yield batch
        if len(batch) < size:
            return  # the last one: no query for an empty page
        batch = _later_page(rows, batch[-1], size)


async def achunks(rows: QuerySet, size: int = CHUNK_ROWS) -> AsyncIterator[list[Row]]:
    """See chunks(); one database hop per chunk, and nothing open between hops."""
    batch = await sync_to_async(_page)(rows, None, size)
    while batch:
        yield batch
        if len(batch) < size:
            return
        batch = await _alater_page(rows, batch[-1], size)


def _disk_full(error: BaseException) -> bool:
    if isinstance(error, BaseExceptionGroup):
        return any(_disk_full(inner) for inner in error.exceptions)
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


def _refusal(error: BaseException) -> ApiError | None:
    """The answer to a failed write that the client can act on, if any."""
    if _disk_full(error):
        return InsufficientStorage()
    # Checked at the rename itself, not before: a folder made meanwhile is caught.
    if isinstance(error, IsADirectoryError):
        return Conflict(NAME_IS_A_FOLDER)
    return None


@contextlib.contextmanager
def _atomic(folder: ExportFolder, export_id: str) -> Iterator[BinaryIO]:
    """A temporary file that becomes the export on success and vanishes on failure."""
    final = _writable_path(folder, export_id)
    temporary = temporary_path(final)
    try:
        with open(temporary, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, final)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if refusal := _refusal(error):
            raise refusal from error
        raise


@contextlib.asynccontextmanager
async def _aatomic(folder: ExportFolder, export_id: str) -> AsyncIterator[Any]:
    """See _atomic()."""
    final = await asyncio.to_thread(_writable_path, folder, export_id)
    temporary = temporary_path(final)
    try:
        file = await _aopen(temporary)
        try:
            yield file
            # aiofiles reports a full disk here, at flush, not at write().
            await file.flush()
            await asyncio.to_thread(os.fsync, file.fileno())
        finally:
            await file.close()
        await aiofiles.os.replace(temporary, final)
    except BaseException as error:
        # Also on cancellation: the client left, so no file is half-written.
        await asyncio.shield(_aunlink(temporary))
        if refusal := _refusal(error):
            raise refusal from error
        raise


async def _aopen(path: Path) -> Any:
    """aiofiles.open(path, "wb"), safe to cancel: a file opened meanwhile is closed."""
    # Cancelled while its thread opens the file, aiofiles.open() would leak it.
    opening = asyncio.ensure_future(aiofiles.open(path, "wb"))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        await (await opening).close()
        raise


async def _aunlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        await aiofiles.os.remove(path)


def write_export(
    rows: QuerySet,
    *,
    folder: ExportFolder,
    export_id: str,
    fmt: str,
    columns: Sequence[str],
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write the rows (see chunks()) to folder/export_id, atomically; progress
    gets each chunk's row count. Raises InvalidParameter (400) for a bad id,
    Conflict (409) for a folder of that name, InsufficientStorage or
    ExportQuotaExceeded (507)."""
    count = 0
    with _atomic(folder, export_id) as file:
        file.write(header(fmt, columns))
        for batch in chunks(rows):
            file.write(encode_rows(batch, fmt, columns))
            count += len(batch)
            if progress:
                progress(len(batch))
        size = file.tell()
    return ExportResult(id=export_id, rows=count, bytes=size)


async def awrite_export(
    rows: QuerySet,
    *,
    folder: ExportFolder,
    export_id: str,
    fmt: str,
    columns: Sequence[str],
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """See write_export()."""
    count = 0
    # aiofiles runs each call in a thread: one hop per chunk written.
    async with _aatomic(folder, export_id) as file:
        await file.write(header(fmt, columns))
        async for batch in achunks(rows):
            await file.write(encode_rows(batch, fmt, columns))
            count += len(batch)
            if progress:
                progress(len(batch))
        size = await file.tell()
    return ExportResult(id=export_id, rows=count, bytes=size)


async def awrite_export_pipelined(
    rows: QuerySet,
    *,
    folder: ExportFolder,
    export_id: str,
    fmt: str,
    columns: Sequence[str],
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """See awrite_export(); reading and writing overlap, a bounded queue between."""
    # The reader waits while PIPELINE_CHUNKS chunks are queued: memory stays
    # bounded however far the writer falls behind.
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=PIPELINE_CHUNKS)

    async def read() -> int:
        count = 0
        await queue.put(header(fmt, columns))
        async for batch in achunks(rows):
            await queue.put(encode_rows(batch, fmt, columns))
            count += len(batch)
            if progress:
                progress(len(batch))
        await queue.put(None)
        return count

    async with _aatomic(folder, export_id) as file, asyncio.TaskGroup() as group:
        reader = group.create_task(read())
        while (chunk := await queue.get()) is not None:
            await file.write(chunk)
        size = await file.tell()
    return ExportResult(id=export_id, rows=reader.result(), bytes=size)


class FileChunks:
    """An open file in READ_BYTES pieces: an async iterator, which ASGI streams.

    StreamingHttpResponse calls close() when the response ends, however it
    ends: the file is closed even if the client left before the first piece.
    """

    def __init__(self, file: BinaryIO) -> None:
        self.file = file

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while chunk := await asyncio.to_thread(self.file.read, READ_BYTES):
            yield chunk

    def close(self) -> None:
        self.file.close()


def stream_rows(
    rows: QuerySet, fmt: str, columns: Sequence[str]
) -> Generator[bytes, None, None]:
    """The export as it is encoded, chunk by chunk (see chunks()), from a sync
    iterator; stops reading the database when the client leaves, and logs the
    rows it sent."""
    sent = 0
    try:
        yield header(fmt, columns)
        for batch in chunks(rows):
            sent += len(batch)
            yield encode_rows(batch, fmt, columns)
    finally:
        logger.info("Export stream closed after %d rows.", sent)


async def astream_rows(
    rows: QuerySet, fmt: str, columns: Sequence[str]
) -> AsyncIterator[bytes]:
    """See stream_rows()."""
    sent = 0
    try:
        yield header(fmt, columns)
        async for batch in achunks(rows):
            sent += len(batch)
            yield encode_rows(batch, fmt, columns)
    finally:
        logger.info("Export stream closed after %d rows.", sent)
