"""What a filter admits, counted once per filter by either backend."""

from __future__ import annotations

from datetime import date

from index.store.filter import ArticleFilter


class Coverage:
    """`date_range` and `admitted` from one count per filter, remembered: a generation never changes and most
    questions share one filter (as of today). A backend gives `_coverage_of`."""

    _coverage: dict[ArticleFilter, tuple[int, date | None, date | None]]

    def _coverage_of(self, where: ArticleFilter) -> tuple[int, date | None, date | None]:
        raise NotImplementedError

    def date_range(self, where: ArticleFilter = ArticleFilter()) -> tuple[date | None, date | None]:
        _, low, high = self.coverage(where)
        return low, high

    def admitted(self, where: ArticleFilter) -> int:
        """How many articles a filter lets through: zero turns an abstention into 'nothing matches'."""
        return self.coverage(where)[0]

    def coverage(self, where: ArticleFilter) -> tuple[int, date | None, date | None]:
        """(articles, earliest, newest) a filter admits."""
        known = self._coverage.get(where)
        if known is None:
            known = self._coverage_of(where)
            if len(self._coverage) >= 1024:
                self._coverage.clear()
            self._coverage[where] = known
        return known
