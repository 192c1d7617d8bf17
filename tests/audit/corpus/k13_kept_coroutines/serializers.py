from .models import Note


class NoteStatsSerializer:
    def __init__(self, data):
        self.data = data


async def stats():
    count = Note.objects.acount()  # planted: code.not-awaited
    return NoteStatsSerializer({"count": count}).data


async def stats_awaited():
    count = await Note.objects.acount()  # control
    return NoteStatsSerializer({"count": count}).data


def coroutine_factory():
    """A sync helper that hands its caller the coroutine to await: fine."""
    pending = Note.objects.acount()  # control
    return pending
