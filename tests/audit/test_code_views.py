"""Async views behind sync-only parts: form validation that queries, sync
iterables streamed, a sync dispatch() in front of async handlers, sync
decorators around async views."""

import textwrap
from unittest import TestCase

from topics.audit.code import scan_source
from topics.audit.codes import CODES
from topics.audit.findings import Finding


def scan(source: str) -> list[Finding]:
    return scan_source(textwrap.dedent(source), "snippet.py")


def found(findings: list[Finding]) -> list[tuple[int, str, str]]:
    """(line, code, level) of each warning and error."""
    return sorted(
        (int(f.location.rpartition(":")[2]), f.code, f.level)
        for f in findings
        if f.level != "info"
    )


class CodesTests(TestCase):
    def test_the_new_codes_are_listed(self):
        for code in ("code.sync-iterator", "code.sync-dispatch", "code.sync-decorator"):
            self.assertIn(code, CODES)


class ValidationTests(TestCase):
    def test_a_model_form_validated_and_saved_on_the_loop(self):
        findings = scan(
            """
            from django import forms

            class NoteForm(forms.ModelForm):
                class Meta:
                    model = Note
                    fields = ["title"]

            async def create(request):
                form = NoteForm(request.POST)
                if form.is_valid():
                    form.save()
            """
        )
        self.assertEqual(
            found(findings),
            [(11, "code.sync-orm", "warning"), (12, "code.sync-orm", "error")],
        )
        is_valid, save = findings
        self.assertIn("NoteForm is a ModelForm", is_valid.message)
        self.assertIn("in async def create()", is_valid.message)
        self.assertIn("save() writes its instance", save.message)
        # One finding for save(): not the generic "may be a sync ORM call" too.
        self.assertNotIn("may be", save.message)
        self.assertIn("sync_to_async", save.fix)
        self.assertIn("no async form API", save.fix)

    def test_a_querying_field_makes_it_an_error(self):
        findings = scan(
            """
            from django import forms

            class PickForm(forms.Form):
                tag = forms.ModelChoiceField(queryset=Tag.objects.all())

            async def pick(request):
                return PickForm(request.POST).is_valid()
            """
        )
        self.assertEqual(found(findings), [(8, "code.sync-orm", "error")])
        self.assertIn("has a ModelChoiceField", findings[0].message)

    def test_a_plain_form_is_not_reported(self):
        findings = scan(
            """
            from django import forms

            class ContactForm(forms.Form):
                name = forms.CharField()

            async def contact(request):
                form = ContactForm(request.POST)
                if form.is_valid():
                    return form.cleaned_data
                return form.errors
            """
        )
        self.assertEqual(found(findings), [])

    def test_a_form_from_elsewhere_is_a_warning_that_says_so(self):
        findings = scan(
            """
            from .forms import SignupForm

            async def signup(request):
                form = SignupForm(request.POST)
                if not form.is_valid():
                    return form.errors
                form.save()
            """
        )
        self.assertEqual(
            found(findings),
            [(6, "code.sync-orm", "warning"), (8, "code.sync-orm", "warning")],
        )
        self.assertIn("defined elsewhere", findings[0].message)

    def test_errors_read_before_validation_runs_it(self):
        findings = scan(
            """
            from .forms import SignupForm

            async def check(request):
                form = SignupForm(request.POST)
                return form.errors
            """
        )
        self.assertEqual(found(findings), [(6, "code.sync-orm", "warning")])
        self.assertIn("full_clean()", findings[0].message)

    def test_validated_in_a_thread_then_read_is_fine(self):
        findings = scan(
            """
            from asgiref.sync import sync_to_async
            from .forms import SignupForm

            def save_it(form):
                return form.is_valid() and form.save()

            async def signup(request):
                form = SignupForm(request.POST)
                if not await sync_to_async(save_it)(form):
                    return form.errors
                valid = await sync_to_async(form.is_valid)()
                return form.errors
            """
        )
        self.assertEqual(found(findings), [])

    def test_adrf_async_serializer_methods_and_other_apis_are_not_reported(self):
        findings = scan(
            """
            from .serializers import NoteSerializer

            async def create(request, validator, payload):
                serializer = NoteSerializer(data=request.data)
                await serializer.ais_valid(raise_exception=True)
                await serializer.asave()
                draft = NoteSerializer(data=request.data).save  # not called
                return validator.is_valid(payload)
            """
        )
        self.assertEqual(found(findings), [])

    def test_a_serializer_gets_the_adrf_fix(self):
        findings = scan(
            """
            from rest_framework import serializers

            class NoteSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Note
                    fields = "__all__"

            async def create(request):
                serializer = NoteSerializer(data=request.data)
                serializer.is_valid(raise_exception=True)
                serializer.save(owner=None)
            """
        )
        self.assertEqual(
            found(findings),
            [(11, "code.sync-orm", "warning"), (12, "code.sync-orm", "error")],
        )
        self.assertIn("ais_valid()", findings[0].fix)

    def test_save_without_commit_and_in_sync_code_are_fine(self):
        findings = scan(
            """
            from .forms import NoteForm

            async def draft(request):
                return NoteForm(request.POST).save(commit=False)

            def create(request):
                form = NoteForm(request.POST)
                return form.is_valid() and form.save()
            """
        )
        self.assertEqual(found(findings), [])

    def test_a_model_instance_validate_unique(self):
        findings = scan(
            """
            async def update(pk):
                note = await Note.objects.aget(pk=pk)
                note.validate_unique(exclude=["slug"])
                schema.validate_unique(a, b, c)
            """
        )
        self.assertEqual(found(findings), [(4, "code.sync-orm", "warning")])


class StreamingTests(TestCase):
    def test_a_sync_generator_streamed_from_async_code(self):
        findings = scan(
            """
            from django.http import StreamingHttpResponse

            def rows():
                yield "a"

            async def export(request):
                return StreamingHttpResponse(rows())
            """
        )
        self.assertEqual(found(findings), [(8, "code.sync-iterator", "warning")])
        finding = findings[0]
        self.assertIn("rows(), a sync generator", finding.message)
        self.assertIn("sync_to_async(list)", finding.message)
        self.assertIn("async def generator", finding.fix)

    def test_what_is_not_reported(self):
        findings = scan(
            """
            from django.http import StreamingHttpResponse

            def rows():
                yield "a"

            async def arows():
                yield "a"

            async def export(request, source):
                StreamingHttpResponse(arows())
                StreamingHttpResponse(["a", "b"])
                StreamingHttpResponse(source.chunks())
                return StreamingHttpResponse(x async for x in arows())

            def export_sync(request):
                return StreamingHttpResponse(rows())
            """
        )
        self.assertEqual(found(findings), [])

    def test_a_name_bound_to_a_generator_expression(self):
        findings = scan(
            """
            from django.http import StreamingHttpResponse as SR

            async def export(request):
                lines = (f"{n}" for n in range(3))
                return SR(streaming_content=lines)
            """
        )
        self.assertEqual(found(findings), [(6, "code.sync-iterator", "warning")])

    def test_a_file_response_in_async_code(self):
        findings = scan(
            """
            from django.http import FileResponse

            async def download(request, storage, name):
                return FileResponse(storage.open(name))
            """
        )
        self.assertEqual(found(findings), [(5, "code.sync-iterator", "warning")])
        self.assertIn("into memory", findings[0].message)
        self.assertIn("X-Accel-Redirect", findings[0].fix)

    def test_starlette_responses_are_not_django_s(self):
        findings = scan(
            """
            from starlette.responses import FileResponse, StreamingResponse

            def rows():
                yield "a"

            async def download(request):
                FileResponse("/srv/a.pdf")
                return StreamingResponse(rows())
            """
        )
        self.assertEqual(found(findings), [])


class DispatchTests(TestCase):
    def test_an_auth_mixin_in_front_of_async_handlers(self):
        findings = scan(
            """
            from django.contrib.auth.mixins import LoginRequiredMixin
            from django.views import View

            class Dashboard(LoginRequiredMixin, View):
                async def get(self, request):
                    return None
            """
        )
        self.assertEqual(found(findings), [(5, "code.sync-dispatch", "error")])
        message = findings[0].message
        self.assertIn("LoginRequiredMixin.dispatch() is sync", message)
        self.assertIn("SynchronousOnlyOperation", message)
        self.assertIn("can't be used in 'await' expression", message)
        self.assertIn("await request.auser()", findings[0].fix)

    def test_a_mixin_of_this_module_through_another_base(self):
        findings = scan(
            """
            from django.views import View

            class TeamMixin:
                def dispatch(self, request, *args, **kwargs):
                    self.team = request.user.team
                    return super().dispatch(request, *args, **kwargs)

            class Base(TeamMixin, View):
                pass

            class Page(Base):
                async def get(self, request):
                    return None
            """
        )
        self.assertEqual(found(findings), [(12, "code.sync-dispatch", "error")])
        self.assertIn("TeamMixin.dispatch() is sync", findings[0].message)

    def test_what_is_not_reported(self):
        findings = scan(
            """
            from django.contrib.auth.decorators import login_required
            from django.contrib.auth.mixins import LoginRequiredMixin
            from django.utils.decorators import method_decorator
            from django.views import View
            from django.views.decorators.csrf import csrf_exempt

            class Passing:
                def dispatch(self, request, *args, **kwargs):
                    self.started = 1
                    return super().dispatch(request, *args, **kwargs)

            class A(Passing, View):
                async def get(self, request):
                    return None

            @method_decorator(csrf_exempt, name="dispatch")
            @method_decorator(login_required, name="get")
            class B(View):
                async def get(self, request):
                    return None

            class C(LoginRequiredMixin, View):
                def get(self, request):
                    return None

            class Mixed(LoginRequiredMixin, View):  # urls.mixed-handlers' case
                def get(self, request):
                    return None

                async def post(self, request):
                    return None

            class Cache(LoginRequiredMixin):
                async def aget(self, key):
                    return None
            """
        )
        self.assertEqual(found(findings), [])

    def test_a_breaking_decorator_on_dispatch(self):
        findings = scan(
            """
            from django.utils.decorators import method_decorator
            from django.views import View
            from django.views.decorators.cache import never_cache

            @method_decorator(never_cache, name="dispatch")
            class Feed(View):
                async def get(self, request):
                    return None
            """
        )
        self.assertEqual(found(findings), [(6, "code.sync-dispatch", "error")])
        self.assertIn("'coroutine' object", findings[0].message)


class DecoratorTests(TestCase):
    def test_a_sync_wrapper_around_an_async_view(self):
        findings = scan(
            """
            import functools

            def require_key(view):
                @functools.wraps(view)
                def wrapper(request, *args, **kwargs):
                    return view(request, *args, **kwargs)
                return wrapper

            def require_role(role):
                def decorator(view):
                    def inner(request):
                        return view(request)
                    return inner
                return decorator

            @require_key
            async def status(request):
                return None

            class Api:
                @require_role("admin")
                async def get(self, request):
                    return None
            """
        )
        self.assertEqual(
            found(findings),
            [
                (17, "code.sync-decorator", "error"),
                (22, "code.sync-decorator", "error"),
            ],
        )
        message = findings[0].message
        self.assertIn(
            "@require_key wraps async def status() in the sync wrapper()", message
        )
        self.assertIn("unawaited coroutine", message)
        self.assertIn("iscoroutinefunction", findings[0].fix)

    def test_what_is_not_reported(self):
        findings = scan(
            """
            from asgiref.sync import iscoroutinefunction, markcoroutinefunction
            from django.contrib.auth.decorators import login_required

            def both(view):
                if iscoroutinefunction(view):
                    async def awrapper(request):
                        return await view(request)
                    return markcoroutinefunction(awrapper)
                def wrapper(request):
                    return view(request)
                return wrapper

            def logged(func):
                def wrapper(*args):
                    return func(*args)
                return wrapper

            @both
            async def a(request):
                return None

            @login_required
            async def b(request):
                return None

            @logged
            async def not_a_view(key):
                return key

            @logged
            def sync_view(request):
                return None
            """
        )
        self.assertEqual(found(findings), [])
