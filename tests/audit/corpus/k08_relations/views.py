from django.http import JsonResponse
from django.shortcuts import aget_object_or_404

from .models import Book, Profile


async def book_detail(request, pk):
    book = await Book.objects.aget(pk=pk)
    return JsonResponse(
        {
            "title": book.title,  # control
            "author": book.author.name,  # planted: code.sync-orm
            "author_id": book.author_id,  # control
        }
    )


async def book_detail_right(request, pk):
    book = await Book.objects.select_related("author").aget(pk=pk)
    return JsonResponse({"author": book.author.name})  # control


async def book_page(request, pk):
    book = await aget_object_or_404(Book, pk=pk)
    publisher = book.publisher  # planted: code.sync-orm
    return JsonResponse({"publisher": publisher.name if publisher else None})


async def books(request):
    rows = []
    async for book in Book.objects.filter(title__startswith="A"):
        author = book.author.name  # planted: code.sync-orm
        rows.append({"title": book.title, "author": author})
    return JsonResponse({"books": rows})


async def books_right(request):
    rows = []
    async for book in Book.objects.select_related("author", "publisher"):
        author, publisher = book.author.name, str(book.publisher)  # control
        rows.append({"author": author, "publisher": publisher})
    return JsonResponse({"books": rows})


async def first_book(request):
    book = await Book.objects.order_by("title").afirst()
    return JsonResponse({"author": str(book.author)})  # planted: code.sync-orm


async def profile(request):
    user = await request.auser()
    profile = await Profile.objects.aget(user=user)
    username = profile.user.username  # planted: code.sync-orm
    return JsonResponse({"bio": profile.bio, "user": username})


async def profile_right(request):
    user = await request.auser()
    profile = await Profile.objects.select_related("user").aget(user=user)
    return JsonResponse({"user": profile.user.username})  # control


async def values_only(request, pk):
    book = await Book.objects.values("title", "author__name").aget(pk=pk)
    return JsonResponse({"author": book["author__name"]})  # control


async def book_with_all(request, pk):
    book = await Book.objects.select_related().aget(pk=pk)
    return JsonResponse({"author": book.author.name})  # control


async def book_label(request, pk):
    book = await Book.objects.aget(pk=pk)
    return JsonResponse({"label": str(book)})  # control


async def profile_label(request, pk):
    profile = await Profile.objects.aget(pk=pk)
    return JsonResponse({"label": f"{profile}"})  # planted: code.sync-orm


async def profile_label_right(request, pk):
    profile = await Profile.objects.select_related("user").aget(pk=pk)
    return JsonResponse({"label": str(profile)})  # control


async def author_labels(request):
    labels = [str(pk) async for pk in Profile.objects.values_list("pk", flat=True)]  # control
    return JsonResponse({"labels": labels})


async def book_byline(request, pk):
    book = await Book.objects.aget(pk=pk)
    slug = book.slug()  # control
    byline = book.byline()  # planted: code.sync-orm
    publisher = book.publisher_name  # planted: code.sync-orm
    return JsonResponse({"slug": slug, "byline": byline, "publisher": publisher})


async def book_byline_right(request, pk):
    book = await Book.objects.select_related("author", "publisher").aget(pk=pk)
    byline, publisher = book.byline(), book.publisher_name  # control
    return JsonResponse({"byline": byline, "publisher": publisher})
