"""Records that cross a boundary (files, CLI JSON, the bot) are pydantic; working records are dataclasses."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class StageConfig(BaseModel):
    """A stage's settings: the same object is a part of `Settings` and what the stage takes.

    Each field is set from the environment under its alias (today's flat `NEWSDESK_` names), and built
    in code by its field name; frozen, so a stage can never change what another stage reads.
    """

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True, extra="forbid")


class Article(BaseModel):
    """One article as stored: `text` is kept exactly so that quotes can be checked against it."""

    id: str
    text: str
    title: str | None = None
    outlet: str | None = None
    url: str | None = None
    published: date | None = None
    author: str | None = None
    source: str = Field("", description="File (and line) the article was read from.")

    @property
    def content_hash(self) -> str:
        """Changes when anything a reader sees changes, so metadata edits re-index too."""
        meta = "\x1f".join(
            str(v or "") for v in (self.title, self.outlet, self.url, self.published, self.author)
        )
        return hashlib.blake2b(f"{meta}\x1e{self.text}".encode(), digest_size=16).hexdigest()

    @property
    def text_hash(self) -> str:
        return hashlib.blake2b(self.text.encode(), digest_size=16).hexdigest()

    @property
    def label(self) -> str:
        """A name to show: the title, or the opening words when the text states no title."""
        if self.title:
            return self.title
        first = self.text.strip().split("\n", 1)[0]
        return first if len(first) <= 80 else first[:80].rsplit(" ", 1)[0] + "…"


class Rejection(BaseModel):
    """A file (or record) that could not be indexed, and why."""

    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class Chunk:
    """A run of whole sentences; `article.text[start:end] == text`."""

    id: int
    article_id: str
    ordinal: int
    start: int
    end: int
    text: str


@dataclass(slots=True)
class Passage:
    """A retrieved chunk with the evidence that ranked it."""

    chunk: Chunk
    score: float
    dense: float | None = None
    dense_rank: int | None = None
    keyword_rank: int | None = None


class SourceRef(BaseModel):
    """Attribution of an article, as shown under a quote or in a source list."""

    article_id: str
    title: str | None = None
    label: str
    outlet: str | None = None
    published: date | None = None
    url: str | None = None


class Quote(SourceRef):
    """A verbatim excerpt: `text == article.text[start:end]` is checked before it leaves the core."""

    text: str
    start: int
    end: int
    score: float
    also_carried_by: list[SourceRef] = Field([], description="Other articles with the same or nearly the same "
                                             "text (wire copies), shown once under this quote.")
    speakers: list[str] = Field([], description="Who the article says spoke the quotation(s) in this excerpt "
                                "(never guessed: empty when the text does not name them beside the quote).")


class AbstainReason(StrEnum):
    """Why the coverage does not answer, machine-readable (`--json`); `Answer.why` says it to a person."""

    no_match = "no_match"  # the outlet/date filter admits no article
    not_news = "not_news"  # a how-to, advice or chit-chat request that no news report answers
    out_of_range = "out_of_range"  # the question names years (or "this week") the coverage does not reach
    unknown_outlet = "unknown_outlet"  # the question asks what an outlet reported that the index does not carry
    unknown_terms = "unknown_terms"  # the question's rarest words occur in no indexed article
    terms_missing = "terms_missing"  # they occur somewhere, but not in the closest passages
    weak_match = "weak_match"  # the closest passages match too weakly to answer
    refused = "refused"  # not a question that can be asked (eval records it and goes on)


class Answerability(BaseModel):
    """The answer-or-abstain decision, with the signals behind it (index/answerability.py)."""

    probability: float
    quotable: bool = Field(False, description="Whether any sentence cleared the quote floor.")
    signals: dict[str, float] = {}
    missing_terms: list[str] = Field([], description="Salient question words the closest passages lack.")


class Answer(BaseModel):
    question: str
    abstained: bool
    confidence: float
    reason: AbstainReason | None = None
    why: str | None = Field(None, description="One line saying why the coverage does not answer.")
    partial: str | None = Field(None, description="Set when the quotes answer only part of the question.")
    answerability: Answerability | None = None
    quotes: list[Quote] = []
    sources: list[SourceRef] = Field([], description="Closest articles, listed when abstaining.")
    arrangement: Literal["relevance", "outlets", "time"] = Field(
        "relevance", description="How the quotes are ordered: by relevance, by the outlets the question names, "
        "or by publication date (the question asks about order in time).")
    missing: list[str] = Field([], description="Outlets or days the question names that no quote is from.")
    generation: str = ""
    elapsed_ms: float = 0.0

    @property
    def closest(self) -> list[SourceRef]:
        """The few sources worth showing a person when abstaining."""
        return self.sources[:3]


class OutletCoverage(BaseModel):
    """One outlet's closest excerpts on a topic; no quotes and a `why` when it has nothing on it."""

    outlet: str
    quotes: list[Quote] = []
    why: str | None = None


class Comparison(BaseModel):
    topic: str
    since: date | None = None
    until: date | None = None
    outlets: list[OutletCoverage] = []
    elapsed_ms: float = 0.0

    @property
    def covered(self) -> list[OutletCoverage]:
        return [o for o in self.outlets if o.quotes]


class TimelinePeriod(BaseModel):
    """The reports of one day or week, in publication order."""

    label: str
    start: date
    quotes: list[Quote] = []


class Timeline(BaseModel):
    """Dated excerpts on a topic in publication order, the earliest report first; grouped by week when the
    reports span more than `WEEKLY_AFTER_DAYS`. `counts` feeds the chart: articles per outlet per period."""

    topic: str
    abstained: bool = False
    why: str | None = None
    by: Literal["day", "week"] = "day"
    periods: list[TimelinePeriod] = []
    undated: list[Quote] = []
    counts: dict[str, dict[str, int]] = Field({}, description="outlet -> period label -> matching articles.")
    elapsed_ms: float = 0.0

    @property
    def earliest(self) -> Quote | None:
        return self.periods[0].quotes[0] if self.periods and self.periods[0].quotes else None


class ArticleSummary(SourceRef):
    chunks: int
    author: str | None = None
    source: str = ""


class IndexReport(BaseModel):
    """What a re-index did; `failed` is non-empty when some file could not be read."""

    added: list[str] = []
    changed: list[str] = []
    removed: list[str] = []
    unchanged: int = 0
    duplicates: list[Rejection] = []
    failed: list[Rejection] = []
    warnings: list[str] = Field([], description="Worth knowing, not a failure (a remembered path gone).")
    chunks_embedded: int = 0
    sentences_embedded: int = 0
    chunks_total: int = 0
    generation: str = ""
    seconds: float = 0.0

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self, verbose: bool = False) -> str:
        """A line of counts, then what needs a person (failures, warnings); every id only when `verbose`."""
        lines = [f"added {len(self.added)}, changed {len(self.changed)}, removed {len(self.removed)}, "
                 f"unchanged {self.unchanged}, duplicates {len(self.duplicates)}, failed {len(self.failed)}; "
                 f"embedded {self.chunks_embedded} of {self.chunks_total} chunks (and {self.sentences_embedded} "
                 f"sentences) in {self.seconds:.1f} s (generation {self.generation or 'none'})"]
        listed = [("added", self.added), ("changed", self.changed), ("removed", self.removed),
                  ("duplicate", [f"{d.source}: {d.reason}" for d in self.duplicates])] if verbose else []
        listed += [("failed", [f"{f.source}: {f.reason}" for f in self.failed]), ("warning", self.warnings)]
        lines += [f"  {label}: {item}" for label, items in listed for item in items]
        return "\n".join(lines)


class Manifest(BaseModel):
    """How a generation was built; loading refuses one built under other settings."""

    format_version: int
    model: str
    dimension: int
    chunk_max_tokens: int
    chunk_overlap_sentences: int
    articles: int
    chunks: int
    vectors: str = "flat"
    built_at: datetime
    generation: str
    # Format 4: the lineage's SQLite file under the data dir, and this generation's number in it (versions.py).
    database: str = ""
    sequence: int = 0


class Status(BaseModel):
    generation: str
    model: str
    articles: int
    chunks: int
    outlets: int
    built_at: datetime | None
    earliest: date | None = None
    latest: date | None = None
    degraded: str | None = None
    version: str = ""
    settings_file: str | None = Field(None, description="The .env file read, if any.")
