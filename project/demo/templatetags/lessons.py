from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def inline_code(text: str) -> SafeString:
    """Render the `backticked` spans of a lesson as <code>; escape everything."""
    # Splitting on backticks alternates prose (even indexes) and code (odd).
    parts = [
        f"<code>{escape(part)}</code>" if index % 2 else escape(part)
        for index, part in enumerate(str(text).split("`"))
    ]
    return mark_safe("".join(parts))  # every part was escaped above
