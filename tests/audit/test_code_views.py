"""Async views behind sync-only parts: form validation that queries, sync
iterables streamed."""

from unittest import TestCase

from tests.audit.code_support import found, scan
from topics.audit.codes import CODES


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
