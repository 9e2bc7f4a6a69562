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
from index.terms import content_terms

_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|" \
         r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_DAY = re.compile(rf"\b(?:\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
                  rf"\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}})\b")
# Words that ask about order or change over time ("Did X report before Y?", "has the coverage changed"), which
# count only in a question about the reports themselves: "Who won after the strike?" is not about order.
_CHANGE = (r"between|before|after|earlier|later|first|then|prior|subsequent(?:ly)?|following|since|"
           r"chang\w*|consisten\w*|inconsisten\w*|over time|timeline|order")
_TEMPORAL = re.compile(rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b|{_CHANGE})\b", re.IGNORECASE)
# The same words without a bare date: a question about change across reports, not one day's report.
_ACROSS = re.compile(rf"\b(?:{_CHANGE})\b", re.IGNORECASE)
# A day written after these bounds a range ("published after September 26, 2023"), not the report's day.
_RELATIVE = re.compile(r"\b(?:before|after|prior to|since|until|by)\s*$", re.IGNORECASE)
# A report dated by an earlier one ("and the subsequent TechCrunch report ... published on the same day").
_SAME_DAY = re.compile(r"\b(?:the|that) same (?:day|date)\b", re.IGNORECASE)
# A clause saying fewer content words than this (beside outlet names) only names its outlet.
_CLAIM_WORDS = 3
# Words that say a clause is about a report, not what the report says.
_REPORTING = frozenset("""article articles report reports reported reporting according suggest suggests suggested
indicate indicates imply implies claim claims covered coverage published mention mentions mentioned
respectively""".split())
# Where a question turns from one claim to the next: commas, semicolons, conjunctions.
_CLAIM = re.compile(r",?\s+(?:and|while|whereas|but|as well as|respectively)\s+|[,;]\s+")
# Facets searched and quoted for one question, at most: each costs one filtered search.
MAX_FACETS = 8
_ABOUT_REPORTS = re.compile(r"\b(?:report\w*|articles?|coverage|covered|pieces?|stor(?:y|ies)|publish\w*)\b",
                            re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Facet:
    """One part of the question the answer should quote: an outlet's coverage, or a day's. `text` is the
    clause of the question that names it, which says what that outlet or day is asked about."""

    label: str
    outlets: tuple[str, ...] = ()
    day: date | None = None
    text: str = ""
    at: int = 0
    claim: bool = False

    @property
    def terms(self) -> set[str]:
        """The content words of its text beside the outlet's name: what it asks of that outlet or day."""
        return content_terms(self.text) - content_terms(" ".join(self.outlets)) - _REPORTING

    def narrowed(self, where: ArticleFilter) -> ArticleFilter | None:
        """The question's filter narrowed to this facet; None when the two admit nothing together."""
        if self.outlets:
            chosen = tuple(o for o in self.outlets if not where.outlets or o.lower() in
                           {w.lower() for w in where.outlets})
            if not chosen:
                return None
            where = replace(where, outlets=chosen)
        if self.day is not None:
            if (where.since and self.day < where.since) or (where.until and self.day > where.until):
                return None
            return replace(where, since=self.day, until=self.day)
        return where

    def admits(self, outlet: str | None, published: date | None) -> bool:
        if self.outlets and (outlet is None or outlet.lower() not in {o.lower() for o in self.outlets}):
            return False
        return self.day is None or published == self.day


@dataclass(frozen=True, slots=True)
class Reading:
    facets: tuple[Facet, ...] = ()
    temporal: bool = False

    @property
    def outlet_facets(self) -> list[Facet]:
        """One facet per outlet named, the first that names it."""
        return list({f.outlets: f for f in reversed(self.facets) if f.outlets and not f.claim}.values())[::-1]


def _day(written: str) -> date | None:
    """A calendar day as written in a question ("on 2023-11-24", "September 26, 2023")."""
    try:
        return dateparser.parse(written, dayfirst=False).date()
    except (ValueError, OverflowError):
        return None


def written_days(question: str) -> list[tuple[re.Match[str], date]]:
    """Each calendar day the question writes out, with where."""
    return [(m, day) for m in _DAY.finditer(question) if (day := _day(m.group(0))) is not None]


def _cuts(pattern: re.Pattern[str], question: str, kept: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """(start, end) of the pieces the pattern cuts the question into, never cutting inside a kept span (an
    outlet's name, a date)."""
    spans, start = [], 0
    for cut in pattern.finditer(question):
        if not any(a < cut.end() and cut.start() < b for a, b in kept):
            spans.append((start, cut.start()))
            start = cut.end()
    spans.append((start, len(question)))
    return [(a, b) for a, b in spans if question[a:b].strip()]


def _said(question: str, start: int, end: int, kept: Sequence[tuple[int, int]]) -> set[str]:
    """Content words of a stretch of the question beside the outlet names and dates in it, and words that
    only say it is about a report."""
    text = "".join(" " if any(a <= i < b for a, b in kept) else question[i] for i in range(start, end))
    return content_terms(text) - _REPORTING


def _mention_text(question: str, at: int, pieces: list[tuple[int, int]],
                  kept: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The piece that holds the mention at `at`, run on into the next pieces while it says too little of
    its own ("while 'The Age' and 'TechCrunch' articles imply ...": The Age's report is what follows)."""
    index = next((i for i, (a, b) in enumerate(pieces) if a <= at < b), len(pieces) - 1)
    start, end = pieces[index]
    while len(_said(question, start, end, kept)) < _CLAIM_WORDS and index + 1 < len(pieces):
        index += 1
        end = pieces[index][1]
    return start, end


def read(question: str, indexed_outlets: Sequence[str]) -> Reading:
    """Facets in the order the question names them: each mention of an outlet (with the first day written in
    its piece or after it, before the next outlet), then days named on their own, then the question's claims.
    An outlet named twice is two facets ("the TechCrunch article on X and the TechCrunch article on Y" asks
    for two articles)."""
    mentions = sorted(((name, at, matched) for name, at in outlets.occurrences(question, indexed_outlets)
                       if (matched := outlets.resolve(name, indexed_outlets))), key=lambda mention: mention[1])
    days = written_days(question)
    kept = [(at, at + len(name)) for name, at, _ in mentions] + [m.span() for m, _ in days]
    pieces = _cuts(_CLAIM, question, kept)
    paired: set[int] = set()
    facets = []
    for name, at, matched in mentions:
        start, end = _mention_text(question, at, pieces, kept)
        upto = next((later for _, later, _ in mentions if later > at), len(question))
        own = next(((m, day) for m, day in days if start <= m.start() < upto and m.start() not in paired
                    and not _RELATIVE.search(question[max(0, m.start() - 12):m.start()])), None)
        if own is not None:
            paired.add(own[0].start())
        day = own[1] if own else _same_day(question, start, upto, at, days)
        label = f"{name}, {day.isoformat()}" if day else name
        facets.append(Facet(label=label, outlets=tuple(matched), day=day, text=question[start:end].strip(), at=at))
    for match, day in days:
        if match.start() not in paired:
            facets.append(Facet(label=day.isoformat(), day=day, text=_within(question, pieces, match.start()),
                                at=match.start()))
    named = {(f.outlets, f.text) for f in facets}
    if facets:
        facets += [f for f in _claims(question, pieces, kept, mentions) if (f.outlets, f.text) not in named]
    about_order = bool(_TEMPORAL.search(question) and _ABOUT_REPORTS.search(question))
    if _ACROSS.search(question) and _ABOUT_REPORTS.search(question):  # a dated outlet's other reports are the change
        facets += [replace(f, label=f"{f.label} (other days)", day=None, claim=True)
                   for f in facets if f.day is not None and f.outlets and not f.claim]
    unique = sorted(facets, key=lambda f: (f.claim, not f.outlets, f.at))
    return Reading(tuple(unique[:MAX_FACETS]), temporal=about_order or bool(days))


def _same_day(question: str, start: int, upto: int, at: int, days: Sequence[tuple[re.Match[str], date]]) -> date | None:
    """The day last written before a mention whose piece says it was published "on the same day"."""
    if not _SAME_DAY.search(question, start, upto):
        return None
    return next((day for match, day in reversed(days) if match.start() < at), None)


def _claims(question: str, pieces: list[tuple[int, int]], kept: Sequence[tuple[int, int]],
            mentions: Sequence[tuple[str, int, list[str]]]) -> list[Facet]:
    """Each distinct claim of a question about the coverage ("..., influencing app distribution, showcasing
    new hardware, and ..."), searched within the outlets it names, else all those the question names: each
    claim is often a different article's."""
    everywhere = tuple(dict.fromkeys(o for _, _, matched in mentions for o in matched))
    found = []
    for start, end in pieces:
        if len(_said(question, start, end, kept)) < _CLAIM_WORDS:
            continue
        inside = tuple(dict.fromkeys(o for _, at, matched in mentions if start <= at < end for o in matched))
        found.append(Facet(label=question[start:end].strip(), outlets=inside or everywhere,
                           text=question[start:end].strip(), at=start, claim=True))
    return found


def _within(question: str, spans: list[tuple[int, int]], at: int) -> str:
    """The piece of the question that holds offset `at`."""
    return next((question[a:b].strip() for a, b in spans if a <= at < b), question)
