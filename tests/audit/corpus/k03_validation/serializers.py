from rest_framework import serializers

from .models import Article


class CommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Article
        fields = ["title"]
