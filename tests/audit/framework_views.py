"""Planted: views as DRF, adrf and django-ninja wrap them, and a URLconf for them."""

from django.http import JsonResponse
from django.urls import path

from tests.audit.fake_frameworks import APIView, NinjaAPI, ViewSet, api_view


class ItemView(APIView):
    def get(self, request):
        return JsonResponse({})


class ItemViewSet(ViewSet):
    def list(self, request):
        return JsonResponse([], safe=False)


@api_view(["GET"])
def drf_items(request):
    return JsonResponse({})


@api_view(["GET"])
async def drf_async_items(request):
    return JsonResponse({})


@api_view(["GET"], awaits=True)
async def adrf_items(request):
    return JsonResponse({})


api = NinjaAPI()
old_api = NinjaAPI(bound_methods=True)


@api.route("items", ["GET"])
@old_api.route("items", ["GET"])
def ninja_list(request):
    return []


@api.route("items", ["POST"])
@old_api.route("items", ["POST"])
async def ninja_create(request):
    return {}


urlpatterns = [
    path("class/", ItemView.as_view()),
    path("viewset/", ItemViewSet.as_view({"get": "list"})),
    path("drf/", drf_items),
    path("drf-async/", drf_async_items),
    path("adrf/", adrf_items),
    path("ninja/", api.urls),
    path("ninja-1.3/", old_api.urls),
]
