from .models import Note


def pinned_notes():
    return Note.objects.filter(pinned=True).order_by("-id")


def pinned_texts():
    return list(Note.objects.filter(pinned=True).values_list("text", flat=True))


def pinned_count():
    return Note.objects.filter(pinned=True).count()
