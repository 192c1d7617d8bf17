from django.db import models


class Topic(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    views = models.IntegerField(default=0)

    def bump(self):
        Topic.objects.filter(pk=self.pk).update(views=models.F("views") + 1)


class Subscriber(models.Model):
    email = models.EmailField()
