from django import forms

from .models import Article, Tag


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["slug", "title", "tags"]


class TagFilterForm(forms.Form):
    tag = forms.ModelChoiceField(queryset=Tag.objects.all())
