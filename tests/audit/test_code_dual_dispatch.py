"""code.sync-dispatch and a dispatch() written for both modes."""

import textwrap
from unittest import TestCase

from topics.audit.code import scan_source

DUAL = """
from django.http import Http404
from django.views import View

class JsonErrors:
    def dispatch(self, request, *args, **kwargs):
        if self.view_is_async:
            return self._adispatch(request, *args, **kwargs)
        try:
            return super().dispatch(request, *args, **kwargs)
        except Http404:
            return None

    async def _adispatch(self, request, *args, **kwargs):
        try:
            return await super().dispatch(request, *args, **kwargs)
        except Http404:
            return None

class Page(JsonErrors, View):
    async def get(self, request):
        return None
"""


def codes(source: str) -> list[str]:
    findings = scan_source(textwrap.dedent(source), "snippet.py")
    return [f.code for f in findings if f.level != "info"]


class DualModeDispatchTests(TestCase):
    def test_a_dispatch_that_hands_async_views_on_first_is_not_flagged(self):
        # Django's own idiom (View.options(), http_method_not_allowed()).
        self.assertEqual(codes(DUAL), [])

    def test_without_the_view_is_async_branch_it_is_flagged(self):
        sync_only = DUAL.replace(
            "        if self.view_is_async:\n"
            "            return self._adispatch(request, *args, **kwargs)\n",
            "",
        )
        self.assertEqual(codes(sync_only), ["code.sync-dispatch"])

    def test_a_branch_that_does_not_return_is_not_enough(self):
        # Reading the flag without handing the view on still runs the sync body.
        logs_only = DUAL.replace(
            "            return self._adispatch(request, *args, **kwargs)\n",
            "            print('async')\n",
        )
        self.assertEqual(codes(logs_only), ["code.sync-dispatch"])
