from asgiref.sync import sync_to_async
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse

from .forms import ArticleForm, TagFilterForm
from .models import Article, Tag


class ContactForm(forms.Form):
    name = forms.CharField(max_length=100)
    email = forms.EmailField()
    message = forms.CharField(widget=forms.Textarea)


class ArticleQuickForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["title"]


class TagPickForm(forms.Form):
    tags = forms.ModelMultipleChoiceField(queryset=Tag.objects.all())


class ArticleSearchForm(TagFilterForm):
    q = forms.CharField(required=False)


class SlugForm(forms.Form):
    slug = forms.SlugField()

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if Article.objects.filter(slug=slug).exists():
            raise forms.ValidationError("taken")
        return slug


async def contact(request):
    form = ContactForm(request.POST)
    if form.is_valid():  # control
        return JsonResponse(form.cleaned_data)
    return JsonResponse(form.errors, status=400)  # control


async def create_article(request):
    form = ArticleForm(request.POST)
    if form.is_valid():  # planted: code.sync-orm (warning)
        article = form.save()  # planted: code.sync-orm (warning)
        return JsonResponse({"id": article.pk})
    return HttpResponseBadRequest()


async def quick_edit(request):
    form = ArticleQuickForm(request.POST)
    if not form.is_valid():  # planted: code.sync-orm (warning)
        return HttpResponseBadRequest()
    form.save()  # planted: code.sync-orm
    return HttpResponse(status=204)


async def draft(request):
    form = ArticleQuickForm(request.POST)
    article = form.save(commit=False)  # control
    article.title = article.title.strip()
    await article.asave()  # control
    return HttpResponse(status=201)


async def pick_tags(request):
    form = TagPickForm(request.POST)
    if form.is_valid():  # planted: code.sync-orm
        return JsonResponse({"n": len(form.cleaned_data["tags"])})
    return HttpResponseBadRequest()


async def check_slug(request):
    form = SlugForm(request.GET)
    return JsonResponse({"errors": form.errors})  # planted: code.sync-orm


async def search(request):
    form = ArticleSearchForm(request.GET)
    if not form.is_valid():  # planted: code.sync-orm (warning)
        return HttpResponseBadRequest()
    return JsonResponse({"q": form.cleaned_data["q"]})


async def login_form(request):
    form = AuthenticationForm(request, data=request.POST)
    if form.is_valid():  # planted: code.sync-orm
        return HttpResponse("ok")
    return HttpResponseBadRequest()


def _save_article(form):
    if form.is_valid():  # control
        return form.save()  # control
    return None


async def create_article_right(request):
    form = ArticleForm(request.POST)
    article = await sync_to_async(_save_article)(form)  # control
    if article is None:
        return JsonResponse(form.errors, status=400)  # control
    return JsonResponse({"id": article.pk})


async def edit_article(request, pk):
    article = await Article.objects.aget(pk=pk)
    valid = await sync_to_async(ArticleQuickForm(request.POST, instance=article).is_valid)()  # control
    return HttpResponse(status=204 if valid else 400)


async def validate_model(request, pk):
    article = await Article.objects.aget(pk=pk)
    article.title = request.POST["title"]
    article.full_clean()  # planted: code.sync-orm (warning)
    article.validate_unique()  # planted: code.sync-orm (warning)
    await article.asave()  # control
    return HttpResponse(status=204)


def sync_view(request):
    form = ArticleForm(request.POST)
    if form.is_valid():  # control
        form.save()  # control
    return HttpResponse()
