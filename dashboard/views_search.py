"""`/batch/search`: search the recognised text of every book the user may see (the API's search selector,
batches/search.py); each result opens the page view on the hit, its line highlighted."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from batches import search as batch_search
from batches import selectors as batch_selectors
from batches.serializers import SEARCH_MAX_QUERY
from core.access import principal_of
from core.errors import ApiError

RESULTS_PER_PAGE = 20
BOOK_CHOICES = 500


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except (TypeError, ValueError):
        return 1


def _result_link(hit: dict, q: str) -> str:
    """The page view of the hit: its file page, the query to highlight, its line scrolled to."""
    url = reverse("dashboard:page", args=[hit["task_id"], hit["page_id"]])
    line = hit["line"]
    if line is None:
        return f"{url}?{urlencode({'q': q})}"
    return f"{url}?{urlencode({'q': q, 'fp': line['page'], 'line': line['index']})}#line-{line['index']}"


def _shown(hit: dict, q: str) -> dict:
    line = hit["line"] or {}
    snippet, start, end = hit["snippet"], line.get("snippet_start", 0), line.get("snippet_end", 0)
    return {**hit, "link": _result_link(hit, q), "before": snippet[:start], "match": snippet[start:end],
            "after": snippet[end:]}


@login_required
@require_GET
def search(request):
    principal = principal_of(request)
    q = request.GET.get("q", "").strip()[:SEARCH_MAX_QUERY]
    book = request.GET.get("book", "").strip()[:255]
    volume = request.GET.get("volume", "").strip()[:100]
    page = _page_number(request)
    books = (batch_selectors.task_list(owner=principal).order_by("book_id").values_list("book_id", flat=True)
             .distinct()[:BOOK_CHOICES])
    context = {"q": q, "book": book, "volume": volume, "books": list(books), "searched": bool(q)}
    status = 200
    if q:
        try:
            found = batch_search.search_pages(q=q, principal=principal, page=page, page_size=RESULTS_PER_PAGE,
                                              filters=batch_search.SearchFilters(book_id=book, volume=volume))
        except ApiError as error:
            context["error"], status = error.message, error.status_code
        else:
            keep = {"q": q, **({"book": book} if book else {}), **({"volume": volume} if volume else {})}
            context.update(
                results=[_shown(hit, q) for hit in found.results], count=found.count, count_exact=found.count_exact,
                page=page, first=(page - 1) * RESULTS_PER_PAGE + 1,
                last=(page - 1) * RESULTS_PER_PAGE + len(found.results),
                previous_url=f"?{urlencode({**keep, 'page': page - 1})}" if page > 1 else None,
                next_url=f"?{urlencode({**keep, 'page': page + 1})}" if found.has_next else None)
    return render(request, "dashboard/search.html", context, status=status)
