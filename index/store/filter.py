"""Which articles a question may draw on: outlets, a date window, and an as-of day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    outlets: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    as_of: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.outlets or self.since or self.until or self.as_of)

    def sql(self) -> tuple[str, list[object]]:
        """A WHERE fragment over `articles a`; undated articles fall outside any date range."""
        clauses: list[str] = []
        params: list[object] = []
        if self.outlets:
            clauses.append(f"a.outlet COLLATE NOCASE IN ({','.join('?' * len(self.outlets))})")
            params.extend(self.outlets)
        if self.since:
            clauses.append("a.published >= ?")
            params.append(self.since.isoformat())
        if self.until:
            clauses.append("a.published <= ?")
            params.append(self.until.isoformat())
        if self.as_of:
            clauses.append("(a.published IS NULL OR a.published <= ?)")
            params.append(self.as_of.isoformat())
        return (" AND ".join(clauses) or "1"), params

