"""Reads of books."""

from django.db.models import QuerySet

from .models import Book


def book_list() -> QuerySet[Book]:
    return Book.objects.all()


def book_get(book_id: str) -> Book | None:
    return Book.objects.filter(book_id=book_id).first()
