"""File exports and downloads: open() and a sync iterator, then aiofiles and an
async one; written atomically, read in chunks."""

from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header

from topics.api import api_view
from topics.exportfiles import (
    FORMATS,
    ExportFile,
    FileChunks,
    aopen_export,
    astream_rows,
    awrite_export,
    awrite_export_pipelined,
    open_export,
    stream_rows,
    write_export,
)
from topics.exports import COLUMNS, export_folder
from topics.models import Topic
from topics.params import ExportParams
from topics.streaming import aprimed, primed, read_whole_under_wsgi


@api_view(methods=["POST"])
def export_create(request: HttpRequest) -> JsonResponse:
    """Write the (filtered) topics to a file; 201 with its id, rows and bytes."""
    params = ExportParams.from_query(request.GET)
    rows = Topic.objects.listing(**params.filters)
    result = write_export(
        rows,
        folder=export_folder(),
        export_id=params.export_id,
        fmt=params.fmt,
        columns=COLUMNS,
    )
    return JsonResponse(result.payload(), status=201)


@api_view(methods=["POST"])
async def aexport_create(request: HttpRequest) -> JsonResponse:
    """See export_create()."""
    params = ExportParams.from_query(request.GET)
    rows = Topic.objects.listing(**params.filters)
    result = await awrite_export(
        rows,
        folder=export_folder(),
        export_id=params.export_id,
        fmt=params.fmt,
        columns=COLUMNS,
    )
    return JsonResponse(result.payload(), status=201)


@api_view(methods=["POST"])
async def aexport_create_pipelined(request: HttpRequest) -> JsonResponse:
    """See export_create(); the reader and the writer overlap, through a queue."""
    params = ExportParams.from_query(request.GET)
    rows = Topic.objects.listing(**params.filters)
    result = await awrite_export_pipelined(
        rows,
        folder=export_folder(),
        export_id=params.export_id,
        fmt=params.fmt,
        columns=COLUMNS,
    )
    return JsonResponse(result.payload(), status=201)


def _attachment(response: HttpResponse, export: ExportFile) -> HttpResponse:
    # The size of the open file: a re-export since cannot change what is sent.
    response["Content-Length"] = str(export.size)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=export.path.name
    )
    return response


@api_view
def export_download(request: HttpRequest, export_id: str) -> FileResponse:
    """An export's file, as an attachment."""
    export = open_export(export_folder().root, export_id)
    # Under ASGI Django reads this whole file into memory first, and warns.
    response = FileResponse(export.file, content_type=export.content_type)
    return _attachment(response, export)


@api_view
@read_whole_under_wsgi
async def aexport_download(
    request: HttpRequest, export_id: str
) -> StreamingHttpResponse:
    """See export_download(); streamed in chunks by an async iterator."""
    export = await aopen_export(export_folder().root, export_id)
    response = StreamingHttpResponse(
        FileChunks(export.file), content_type=export.content_type
    )
    return _attachment(response, export)


def _streamed(content, params: ExportParams) -> StreamingHttpResponse:
    response = StreamingHttpResponse(content, content_type=FORMATS[params.fmt])
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"topics.{params.fmt}"
    )
    return response


# GET only: a HEAD would run the whole export for a body the server drops.
@api_view(methods=["GET"])
def export_stream(request: HttpRequest) -> StreamingHttpResponse:
    """The export sent as it is read, with no file: a sync generator."""
    params = ExportParams.from_query(request.GET)
    rows = Topic.objects.listing(**params.filters)
    return _streamed(primed(stream_rows(rows, params.fmt, COLUMNS)), params)


@api_view(methods=["GET"])
@read_whole_under_wsgi
async def aexport_stream(request: HttpRequest) -> StreamingHttpResponse:
    """See export_stream(); an async generator, one hop per 2,000 rows."""
    params = ExportParams.from_query(request.GET)
    rows = Topic.objects.listing(**params.filters)
    # Primed: the query runs before the 200 is sent, so an outage is a 503.
    return _streamed(await aprimed(astream_rows(rows, params.fmt, COLUMNS)), params)
