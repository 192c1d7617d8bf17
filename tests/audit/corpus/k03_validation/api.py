from adrf.views import APIView as AsyncAPIView
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.validators import UniqueValidator

from .models import Article, Tag
from .serializers import CommentSerializer


class ArticleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Article
        fields = ["slug", "title", "tags"]


class TagRefSerializer(serializers.Serializer):
    tag = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all())


class RenameSerializer(serializers.Serializer):
    slug = serializers.SlugField(validators=[UniqueValidator(queryset=Article.objects.all())])


class PingSerializer(serializers.Serializer):
    message = serializers.CharField()
    count = serializers.IntegerField(min_value=0)


class ArticleView(AsyncAPIView):
    async def post(self, request):
        serializer = ArticleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)  # planted: code.sync-orm (warning)
        serializer.save()  # planted: code.sync-orm
        return Response(serializer.data, status=201)

    async def put(self, request):
        serializer = ArticleSerializer(data=request.data)
        await serializer.ais_valid(raise_exception=True)  # control
        await serializer.asave()  # control
        return Response(serializer.data)


class TagRefView(AsyncAPIView):
    async def post(self, request):
        serializer = TagRefSerializer(data=request.data)
        if not serializer.is_valid():  # planted: code.sync-orm
            return Response(serializer.errors, status=400)  # control
        return Response(status=204)


class RenameView(AsyncAPIView):
    async def post(self, request):
        serializer = RenameSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)  # planted: code.sync-orm
        return Response(serializer.validated_data)


class CommentView(AsyncAPIView):
    async def post(self, request):
        user = await request.auser()
        serializer = CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)  # planted: code.sync-orm (warning)
        serializer.save(author=user)  # planted: code.sync-orm (warning)
        return Response(status=201)


class PingView(AsyncAPIView):
    async def post(self, request):
        serializer = PingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)  # control
        return Response(serializer.validated_data)


async def check_schema(validator, payload):
    return validator.is_valid(payload)  # control
