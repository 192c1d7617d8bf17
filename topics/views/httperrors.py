"""Upstream errors: requests and aiohttp fail differently; the API answers alike."""

from django.http import HttpRequest, JsonResponse

from topics.api import ApiError, api_view
from topics.httperrors import TIMEOUT, HTTPCallError, afetch_json, fetch_json
from topics.upstream.client import client_session, requests_session
from topics.upstream.params import source_url

# Seconds to connect, then between two reads; the fake's "timeout" waits 2 s.
CALL_TIMEOUT = 0.5


class CallFailed(ApiError):
    """An HTTPCallError as this API answers it: 504 for a timeout, else 502."""

    def __init__(self, error: HTTPCallError) -> None:
        details = {"upstream_status": error.status} if error.status else {}
        status = 504 if error.code == TIMEOUT else 502
        super().__init__(error.code, error.message, status=status, **details)


@api_view
def upstream_errors(request: HttpRequest) -> JsonResponse:
    """One source's data, or its failure as {"error": {"code", "message"}}."""
    try:
        data = fetch_json(
            requests_session(), source_url("profile"), timeout=CALL_TIMEOUT
        )
    except HTTPCallError as error:
        raise CallFailed(error) from None
    return JsonResponse({"data": data})


@api_view
async def aupstream_errors(request: HttpRequest) -> JsonResponse:
    """See upstream_errors()."""
    try:
        async with client_session() as session:
            data = await afetch_json(
                session, source_url("profile"), timeout=CALL_TIMEOUT
            )
    except HTTPCallError as error:
        raise CallFailed(error) from None
    return JsonResponse({"data": data})
