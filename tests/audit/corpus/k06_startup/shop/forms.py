from django import forms

from .models import Category, category_choices


class ProductForm(forms.Form):
    name = forms.CharField()
    category = forms.ChoiceField(
        choices=[(c.pk, c.name) for c in Category.objects.all()]  # planted: code.startup-query (warning)
    )


class ProductFormLazy(forms.Form):
    category = forms.ModelChoiceField(queryset=Category.objects.all())  # control
    kind = forms.ChoiceField(choices=category_choices)  # control
