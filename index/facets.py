"""What a question asks of the coverage beyond its topic: the outlets and days it names, and whether it is
about order in time. Each named outlet or day becomes a facet the answer must quote when the coverage has it
("What did CNN and USA Today report ...": one quote from each, not four from whichever ranks first)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from dateutil import parser as dateparser

from index import outlets
from index.store import ArticleFilter

_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|" \
         r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_DAY = re.compile(rf"\b(?:\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
                  rf"\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}})\b")
# Words that ask about order or change over time ("Did X report before Y?", "has the coverage changed"), which
# count only in a question about the reports themselves: "Who won after the strike?" is not about order.
_TEMPORAL = re.compile(rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b|between|"
                       r"before|after|earlier|later|first|then|prior|subsequent(?:ly)?|following|since|"
                       r"chang\w*|consisten\w*|inconsisten\w*|over time|timeline|order)\b", re.IGNORECASE)
_ABOUT_REPORTS = re.compile(r"\b(?:report\w*|articles?|coverage|covered|pieces?|stor(?:y|ies)|published)\b",
                            re.IGNORECASE)


# Where a question turns from one side to the next: "..., while 'TechCrunch' ...", "... and The Age ...".
_CLAUSE = re.compile(r"[,;]?\s+(?:while|whereas|but|compared (?:to|with)|and then|and|then|or)\s+"
                     r"(?=(?:the\s+|an?\s+|does\s+|did\s+)?['‘\"]?[A-Z0-9])|[;]\s+")


@dataclass(frozen=True, slots=True)
class Facet:
    """One part of the question the answer should quote: an outlet's coverage, or a day's. `text` is the
    clause of the question that names it, which says what that outlet or day is asked about."""

    label: str
    outlets: tuple[str, ...] = ()
    day: date | None = None
    text: str = ""

    def narrowed(self, where: ArticleFilter) -> ArticleFilter | None:
        """The question's filter narrowed to this facet; None when the two admit nothing together."""
        if self.outlets:
            chosen = tuple(o for o in self.outlets if not where.outlets or o.lower() in
                           {w.lower() for w in where.outlets})
            return replace(where, outlets=chosen) if chosen else None
        if self.day is not None:
            if (where.since and self.day < where.since) or (where.until and self.day > where.until):
                return None
            return replace(where, since=self.day, until=self.day)
        return where

    def admits(self, outlet: str | None, published: date | None) -> bool:
        if self.outlets:
            return outlet is not None and outlet.lower() in {o.lower() for o in self.outlets}
        return self.day is not None and published == self.day


@dataclass(frozen=True, slots=True)
class Reading:
    facets: tuple[Facet, ...] = ()
    temporal: bool = False

    @property
    def outlet_facets(self) -> list[Facet]:
        return [f for f in self.facets if f.outlets]


def _day(written: str) -> date | None:
    """A calendar day as written in a question ("on 2023-11-24", "September 26, 2023")."""
    try:
        return dateparser.parse(written, dayfirst=False).date()
    except (ValueError, OverflowError):
        return None


def clause(question: str, mention: str) -> str:
    """The clause of the question that holds `mention`; the whole question when it has one clause."""
    parts = [p for p in _CLAUSE.split(question) if p and p.strip()]
    return next((p.strip() for p in parts if mention in p), question) if len(parts) > 1 else question


def _position(question: str, label: str) -> int:
    at = question.lower().find(label.lower())
    return at if at >= 0 else len(question)


def read(question: str, indexed_outlets: Sequence[str]) -> Reading:
    """Facets in the order the question names them: outlets first, then days."""
    facets = []
    for name in outlets.mentioned(question, indexed_outlets):
        matched = outlets.resolve(name, indexed_outlets)
        if matched:
            facets.append(Facet(label=name, outlets=tuple(matched), text=clause(question, name)))
    for match in _DAY.finditer(question):
        day = _day(match.group(0))
        if day is not None:
            facets.append(Facet(label=day.isoformat(), day=day, text=clause(question, match.group(0))))
    unique = sorted({(f.outlets, f.day): f for f in facets}.values(),
                    key=lambda f: (f.day is not None, _position(question, f.label)))
    named_days = any(f.day for f in unique)
    about_order = bool(_TEMPORAL.search(question) and _ABOUT_REPORTS.search(question))
    return Reading(tuple(unique), temporal=about_order or named_days)
