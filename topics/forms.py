from django import forms

from topics.models import Author, Tag, Topic


class TopicForm(forms.ModelForm):
    """Create a topic from JSON: the author and the tags by name."""

    author = forms.ModelChoiceField(queryset=Author.objects.all(), to_field_name="name")
    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.all(), to_field_name="name", required=False
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
