"""The code scan on the sync ORM in async code: querying methods, evaluation,
related managers, atomic(), request.user and the session, and the look-alikes
it must leave alone."""

import textwrap
from unittest import TestCase

from tests.audit.code_support import codes, scan
from topics.audit.code import scan_source


class SyncOrmTests(TestCase):
    def test_sync_methods_and_evaluation_are_errors(self):
        findings = scan(
            """
            async def view(pk):
                Order.objects.get(pk=pk)
                Order._default_manager.filter(pk=pk).exists()
                self.model._default_manager.first()
                list(Order.objects.filter(pk=pk))
                bool(Order.objects.all())
                if Order.objects.filter(pk=pk):
                    pass
                Order.objects.all()[0]
                for order in Order.objects.all()[:10]:
                    pass
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [(f"snippet.py:{line}", "error") for line in (3, 4, 5, 6, 7, 8, 10, 11)],
        )
        self.assertIs(all(f.code == "code.sync-orm" for f in findings), True)

    def test_async_methods_awaits_and_lazy_building_are_fine(self):
        findings = scan(
            """
            async def view(pk):
                qs = Order.objects.filter(pk=pk)
                qs = qs.order_by("id")
                await qs.aget()
                await Order.objects.acount()
                orders = [order async for order in qs]
                async for order in Order.objects.all().aiterator():
                    pass
                page = qs[10:20]
                settings.objects.get("key")
                return qs, page, orders
            """
        )

        self.assertEqual(findings, [])

    def test_a_queryset_name_or_parameter_evaluated_is_an_error(self):
        """A name only ever bound to a lazy chain, or annotated QuerySet, is one."""
        findings = scan(
            """
            from django.db.models import QuerySet

            async def view(rows: QuerySet, other):
                paid = Order.objects.filter(paid=True).order_by("id")
                total = len(paid)
                names = [row.name for row in rows]
                for item in other:
                    pass
                again = Order.objects.all()
                again = list(again)
                return total, names, again
            """
        )

        self.assertEqual(
            codes(findings),
            [("snippet.py:6", "code.sync-orm"), ("snippet.py:7", "code.sync-orm")],
        )

    def test_save_delete_are_warnings_and_a_chain_is_reported_once(self):
        findings = scan(
            """
            async def view(order, form):
                order.save()
                form.full_clean()
                await order.adelete()
                Order.objects.get(pk=1).delete()
                draft = form.save(commit=False)  # builds it, runs no query
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [
                ("snippet.py:3", "warning"),
                ("snippet.py:4", "warning"),
                ("snippet.py:6", "error"),
            ],
        )
        self.assertIn("Order.objects.get(...)", findings[2].message)

    def test_save_delete_with_arguments_no_model_method_takes_are_not_models(self):
        """image.save(buffer, format="PNG") is PIL's; Model.save() is keyword-only,
        and each model method takes only its own keywords."""
        findings = scan(
            """
            async def view(order, form, image, buffer, cache, serializer, kwargs):
                image.save(buffer, format="PNG")
                image.save("out.png")
                cache.delete("key")
                serializer.save(owner=order.owner)
                order.refresh_from_db(force=True)
                order.full_clean(strict=True)
                order.save(update_fields=["paid"])
                order.delete(keep_parents=True)
                form.save(commit=True)
                order.refresh_from_db("default", fields=["paid"])
                order.full_clean(exclude=["paid"])
                order.save(**kwargs)
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [(f"snippet.py:{line}", "warning") for line in range(9, 15)],
        )
        self.assertEqual(
            findings[0].fix, "await order.asave(), or do it inside one sync_to_async."
        )
        self.assertIn("A ModelForm's save() has no async variant", findings[2].fix)

    def test_a_related_manager_of_a_parameter_evaluated_is_info(self):
        """order.items.all() is free when prefetched, and order comes from the
        caller: the scan cannot tell (tests/audit/test_code_related.py)."""
        findings = scan(
            """
            async def view(order):
                return [item.name for item in order.items.all()]
            """
        )

        self.assertEqual(
            [(f.code, f.level) for f in findings], [("code.sync-orm", "info")]
        )
        self.assertIn("unless the relation was prefetched", findings[0].message)

    def test_a_name_holding_a_related_manager_chain_is_not_an_error(self):
        """files = agent.files.all() is the inline chain's finding, not an error
        (info: agent is a parameter); filtered, it queries, prefetched or not (a
        warning); a name that may hold Model.objects' chain is still an error."""
        findings = scan(
            """
            async def view(agent, flag):
                files = agent.fileobject_set.all()
                names = [f.name for f in files]
                recent = files.filter(new=True)
                recent = recent.order_by("-id")
                total = len(recent)
                mixed = agent.tags.all()
                if flag:
                    mixed = Tag.objects.all()
                everyone = Agent.objects.filter(team=agent.team)
                return names, total, list(mixed), [a.pk for a in everyone]
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [
                ("snippet.py:4", "info"),
                ("snippet.py:7", "warning"),
                ("snippet.py:12", "error"),
                ("snippet.py:12", "error"),
            ],
        )
        self.assertIn("unless the relation was prefetched", findings[0].message)
        self.assertEqual(
            [f.message.split(" runs")[0] for f in findings[2:]],
            ["Iterating everyone", "list(mixed)"],
        )

    def test_atomic_around_async_code_and_the_orm_in_to_thread(self):
        findings = scan(
            """
            import asyncio
            from django.db import transaction

            @transaction.atomic
            async def retitle(topic):
                await topic.asave()

            async def count():
                return await asyncio.to_thread(Topic.objects.count)

            @transaction.atomic
            def sync_retitle(topic):
                with transaction.atomic(using="other"):
                    topic.save()
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [("snippet.py:5", "error"), ("snippet.py:10", "warning")],
        )
        self.assertIn("@transaction.atomic cannot wrap", findings[0].message)

    def test_a_lazy_queryset_from_sync_to_async_and_the_sync_paginator(self):
        """The lambda builds a query and runs none: it runs later, on the loop."""
        findings = scan(
            """
            from asgiref.sync import sync_to_async
            from django.core.paginator import Paginator

            async def view(number):
                rows = await sync_to_async(lambda: Topic.objects.all())()
                listed = await sync_to_async(lambda: list(Topic.objects.all()))()
                return Paginator(listed, 10).page(number)
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [("snippet.py:6", "error"), ("snippet.py:8", "warning")],
        )
        self.assertIn("lambda: list(Topic.objects.all())", findings[0].fix)

    def test_request_user_and_session_read_the_sync_way(self):
        findings = scan(
            """
            async def view(request):
                name = request.user.username
                theme = request.session["theme"]
                request.session.get("theme")
                # A bound method handed to a thread is not called on the loop.
                await sync_to_async(request.session.get)("theme")
                return await request.session.aget("theme")
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings],
            [
                ("snippet.py:3", "warning"),
                ("snippet.py:4", "warning"),
                ("snippet.py:5", "warning"),
            ],
        )

    def test_a_request_annotated_with_a_type_from_outside_django_is_not_one(self):
        """Starlette's and FastAPI's Request run no query for .user or .session;
        DRF's, adrf's and ninja's wrap Django's; no annotation is Django's."""
        findings = scan(
            """
            from typing import Annotated, Optional

            import starlette.requests
            from django.http import HttpRequest
            from fastapi import Depends, Request
            from rest_framework.request import Request as DRFRequest
            from starlette.requests import HTTPConnection
            from starlette.websockets import WebSocket

            async def fastapi_view(request: Request):
                return request.user.object, request.session.get("user")

            async def starlette_view(request: Optional[HTTPConnection] = None):
                return request.session["user"]

            async def socket(request: "WebSocket | None"):
                return request.user

            async def depends(request: Annotated[Request, Depends()]):
                async def inner():
                    return request.user
                return request.user, await inner()

            async def dotted(request: starlette.requests.Request):
                return request.session.pop("user")

            async def django_view(request: HttpRequest):
                return request.user

            async def drf_view(request: DRFRequest):
                return request.session.get("user")

            async def plain_view(request):
                return request.user

            async def mixed_view(request: Request | HttpRequest):
                return request.user
            """
        )

        self.assertEqual(
            [(f.location, f.message.split(" ")[0]) for f in findings],
            [
                ("snippet.py:29", "request.user"),
                ("snippet.py:32", "request.session.get()"),
                ("snippet.py:35", "request.user"),
                ("snippet.py:38", "request.user"),
            ],
        )

    def test_a_request_type_of_the_project_itself_may_be_django_s(self):
        """A subclass of HttpRequest, defined in the project, is typical."""
        findings = scan_source(
            textwrap.dedent(
                """
                from shop.http import AuthenticatedRequest
                from .types import TypedRequest

                class LocalRequest(HttpRequest):
                    pass

                async def view(request: AuthenticatedRequest):
                    return request.user

                async def other(request: TypedRequest):
                    return request.user

                async def local(request: "LocalRequest"):
                    return request.user
                """
            ),
            "shop/views.py",
        )

        self.assertEqual(
            [f.location for f in findings],
            ["shop/views.py:9", "shop/views.py:12", "shop/views.py:15"],
        )

    def test_one_finding_per_line_code_and_message_at_its_first_column(self):
        """The lazy user loads once: two reads on a line are one finding."""
        findings = scan(
            """
            async def view(request):
                pk = request.user.pk if request.user.is_authenticated else None
                name = request.user.username
                theme = request.user.theme or request.session["theme"]
                return pk, name, theme
            """
        )

        self.assertEqual(
            [(f.location, f.column, f.message.split(" ")[0]) for f in findings],
            [
                ("snippet.py:3", 10, "request.user"),
                ("snippet.py:4", 12, "request.user"),
                ("snippet.py:5", 35, "request.session[...]"),
                ("snippet.py:5", 13, "request.user"),
            ],
        )
