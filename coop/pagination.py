"""A paginator whose count stops at a bound, so a list's cost does not grow with the data.

Django's `Paginator` counts every matching row for "N deals" and "Page 1 of N"; over
100,000 visible deals that COUNT(*) alone cost more than the rest of the page. A person
paging through a list looks a few pages ahead, not 4,000: `BoundedPaginator` counts at most
`ahead` rows past the start of the requested page and says when there are more.
"""

import math

from django.core.paginator import Paginator
from django.utils.functional import cached_property

# Rows counted past the first row of the requested page (40 pages of 25).
COUNT_AHEAD = 1000
MAX_PAGE = 10**9


class BoundedPaginator(Paginator):
    """`Paginator` over a queryset that counts at most `bound` rows: `count` is exact when
    `more` is false; otherwise there are more than `count` rows (and more than `num_pages`
    pages), and every page up to `num_pages` can be opened. `page` is the requested page
    number as the request gives it (what `get_page` then receives)."""

    def __init__(self, object_list, per_page: int, *, page: object, ahead: int | None = None):
        super().__init__(object_list, per_page)
        ahead = COUNT_AHEAD if ahead is None else ahead
        try:
            # Capped so that the bound stays a 64-bit LIMIT whatever number a client sends.
            number = min(max(1, int(page)), MAX_PAGE)
        except (TypeError, ValueError):
            number = 1
        # A multiple of `per_page`, so "more than `num_pages` pages" holds when `more` is true.
        self.bound = (number - 1) * per_page + math.ceil(ahead / per_page) * per_page

    @cached_property
    def _counted(self) -> int:
        # The order does not change a count; without it the database stops at the bound.
        return self.object_list.order_by()[: self.bound + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.bound)

    @property
    def more(self) -> bool:
        """Whether rows past `count` exist (then not counted)."""
        return self._counted > self.bound
