"""Event loops: an async generator started in the view's loop is cut short when
WSGI reads the body in another; read in the view's loop, it arrives whole."""

from django.test import SimpleTestCase, override_settings
from django.urls import path

from tests.wsgi import wsgi_request
from topics.pitfalls.loops import (
    ASYNC_ITERATOR_WARNING,
    STREAM_LINES,
    right_primed_stream,
    wrong_primed_stream,
)

urlpatterns = [
    path("wrong-primed/", wrong_primed_stream),
    path("right-primed/", right_primed_stream),
]
routed_here = override_settings(ROOT_URLCONF=__name__)
EVERY_LINE = b"".join(b"%d\n" % number for number in range(STREAM_LINES))


@routed_here
class LoopTests(SimpleTestCase):
    def test_a_stream_started_in_the_view_is_cut_under_wsgi(self):
        """WSGI: the wrong view answers 200 with its first line only; the right
        one, read in the view's loop, with every line and no warning."""
        with self.assertWarnsMessage(Warning, ASYNC_ITERATOR_WARNING):
            wrong = wsgi_request("GET", "/wrong-primed/")
        right = wsgi_request("GET", "/right-primed/")

        self.assertEqual((wrong.status_code, wrong.body), (200, b"0\n"))
        self.assertEqual((right.status_code, right.body), (200, EVERY_LINE))

    async def test_under_asgi_one_loop_serves_both_whole(self):
        """ASGI runs the view and reads its body in one loop: both streams whole."""
        for route in ("/wrong-primed/", "/right-primed/"):
            response = await self.async_client.get(route)

            self.assertIs(response.is_async, True)
            body = b"".join([part async for part in response])
            self.assertEqual(body, EVERY_LINE, route)
