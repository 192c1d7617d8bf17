from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from topics.models import Author, Tag, Topic

# Tags a topic may carry: every name sent costs a lookup to validate.
MAX_TAGS = 20
TOO_MANY_CHOICES = "Choose at most %(limit)d, not %(count)d."


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField that refuses more than max_choices values."""

    default_error_messages = {"too_many": TOO_MANY_CHOICES}

    def __init__(self, queryset: QuerySet, *, max_choices: int, **kwargs: Any) -> None:
        super().__init__(queryset, **kwargs)
        self.max_choices = max_choices

    def clean(self, value: Any) -> QuerySet:
        """The chosen objects; over max_choices distinct values is refused unqueried.

        Raises ValidationError (code "too_many") before super().clean(), which
        builds a queryset per distinct value: 50,000 names cost seconds of CPU.
        """
        if isinstance(value, (list, tuple)):
            try:
                count = len(frozenset(value))  # duplicates count once, as below
            except TypeError:  # unhashable values: super().clean() refuses them
                count = 0
            if count > self.max_choices:
                raise ValidationError(
                    self.error_messages["too_many"],
                    code="too_many",
                    params={"limit": self.max_choices, "count": count},
                )
        return super().clean(value)


class TopicForm(forms.ModelForm):
    """Create a topic from JSON: the author and the tags by name."""

    author = forms.ModelChoiceField(queryset=Author.objects.all(), to_field_name="name")
    tags = BoundedModelMultipleChoiceField(
        queryset=Tag.objects.all(),
        to_field_name="name",
        required=False,
        max_choices=MAX_TAGS,
    )

    class Meta:
        model = Topic
        fields = ["title", "slug", "body", "author", "tags"]


class TopicUpdateForm(forms.ModelForm):
    """Change a topic's text; `revision`, when sent, must be the current one."""

    revision = forms.IntegerField(required=False, min_value=1)

    class Meta:
        model = Topic
        fields = ["title", "body"]


class TopicPageForm(forms.ModelForm):
    """Create a topic from an HTML form; the author is picked from a select."""

    # By name, not id: the option values stay the same in every database.
    author = forms.ModelChoiceField(queryset=Author.objects.all(), to_field_name="name")

    class Meta:
        model = Topic
        fields = ["title", "slug", "body", "author"]
