from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=50)


class Product(models.Model):
    name = models.CharField(max_length=100)
    category = models.ForeignKey(Category, on_delete=models.CASCADE)


class SiteSetting(models.Model):
    key = models.CharField(max_length=50)
    value = models.TextField()


def category_choices():
    return [(c.pk, c.name) for c in Category.objects.all()]  # control
