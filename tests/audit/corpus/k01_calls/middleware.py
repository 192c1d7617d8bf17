"""An async-capable middleware whose sync helper reads request.user."""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction


class TagMiddleware:
    async_capable = True
    sync_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        request.tag = self.tag(request)  # control
        return self.get_response(request)

    async def __acall__(self, request):
        request.tag = self.tag(request)  # planted: code.sync-orm (warning)
        return await self.get_response(request)

    def tag(self, request):
        # Loads the user lazily: a query, for visitors with a session cookie.
        return f"user-{request.user.pk}"


class TimingMiddleware:
    async_capable = True
    sync_capable = False

    def __init__(self, get_response):
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request):
        request.started = self.stamp()  # control
        response = await self.get_response(request)
        response["X-Elapsed"] = self.elapsed(request)  # control
        return response

    def stamp(self):
        import time

        return time.monotonic()

    def elapsed(self, request):
        return str(self.stamp() - request.started)
