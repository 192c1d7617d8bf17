from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Publisher(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    publisher = models.ForeignKey(Publisher, null=True, on_delete=models.SET_NULL)
    tags = models.ManyToManyField("Tag")

    def __str__(self):
        return self.title

    def byline(self):
        return f"{self.title} by {self.author.name}"

    @property
    def publisher_name(self):
        return self.publisher.name if self.publisher_id else ""

    def slug(self):
        return self.title.lower()


class Tag(models.Model):
    name = models.CharField(max_length=50)


class Profile(models.Model):
    user = models.OneToOneField("auth.User", on_delete=models.CASCADE)
    bio = models.TextField()

    def __str__(self):
        return f"{self.user.username}: {self.bio[:20]}"
