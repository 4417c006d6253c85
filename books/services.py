"""Writes to books."""

from .models import Book


def book_upsert(*, book_id: str, source_directory: str, total_pages: int, total_volumes: int) -> Book:
    """The book a scan belongs to: created on its first scan, its directory and counts refreshed by later ones.
    Safe under concurrent scans of the same book (a lost insert race falls back to the existing row)."""
    book, created = Book.objects.get_or_create(
        book_id=book_id,
        defaults={"title": book_id, "source_directory": source_directory, "total_pages": total_pages,
                  "total_volumes": total_volumes},
    )
    if not created:
        Book.objects.filter(pk=book.pk).update(source_directory=source_directory, total_pages=total_pages,
                                               total_volumes=total_volumes)
        book.refresh_from_db()
    return book
