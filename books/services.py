"""Writes to books."""

from .models import Book


def book_upsert(*, book_id: str, source_directory: str) -> Book:
    """The book a scan belongs to: created on its first scan, its directory refreshed by later ones. Safe
    under concurrent scans of the same book (a lost insert race falls back to the existing row)."""
    book, created = Book.objects.get_or_create(book_id=book_id,
                                               defaults={"title": book_id, "source_directory": source_directory})
    if not created:
        Book.objects.filter(pk=book.pk).update(source_directory=source_directory)
        book.refresh_from_db()
    return book


def book_totals_set(*, book_id: str, total_pages: int, total_volumes: int) -> None:
    """The book's counts, as its scans (which this app does not know) have them together."""
    Book.objects.filter(book_id=book_id).update(total_pages=total_pages, total_volumes=total_volumes)


def book_delete(*, book_id: str) -> None:
    Book.objects.filter(book_id=book_id).delete()
