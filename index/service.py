"""The facade the CLI and the bot call: ask, sources, source, reindex, add_article, status, feedback.

The bot imports only this module, `index.models` and `index.errors`; what a front end needs of the
core is a method here (or a type re-exported here, like `Prompts`), never a reach into a stage.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

from index import __version__, chart, facets, upload
from index.answer import FACET_CHARS_CAP, AnswerConfig, compose
from index.build import Progress, reindex
from index.config import Settings, env_file, load_settings
from index.embed import Embedder, make_embedder
from index.errors import (
    BadQuestion,
    IndexCorrupt,
    IndexNotFound,
    UnknownArticle,
    UnknownPath,
)
from index.feedback import FeedbackStore, FeedbackSummary
from index.models import (
    Answer,
    Article,
    ArticleSummary,
    Comparison,
    IndexReport,
    OutletCoverage,
    Status,
    Timeline,
)
from index.outlets import resolve
from index.prompts import Prompts
from index.retrieve import Mode, RetrievalConfig, retrieve, with_facets
from index.store import ArticleFilter, Expected, Reader, open_store
from index.timeline import TIMELINE_QUOTES, in_time_order

__all__ = ["Mode", "Newsdesk", "Progress", "Prompts", "check_window", "clean_question", "parse_day"]

log = logging.getLogger(__name__)
# Outlets compared when the user names none: those of the closest coverage.
COMPARED_OUTLETS = 6
_INVISIBLE = {"Cc", "Cf", "Co", "Cs", "Cn"}
_HAS_WORD = re.compile(r"\w", re.UNICODE)


def clean_question(text: str, max_chars: int) -> str:
    """Drop control and zero-width characters, collapse spaces; refuse what cannot be a question."""
    visible = "".join(" " if ch.isspace() else ch for ch in text
                      if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE)
    question = " ".join(visible.split())
    if not question or not _HAS_WORD.search(question):
        raise BadQuestion("ask a question in words, for example: Why was Russia expelled from the G8?")
    if len(question) > max_chars:
        raise BadQuestion(f"questions are limited to {max_chars} characters (this one has {len(question)}); "
                          "shorten it")
    return question


def parse_day(value: str | None, name: str) -> date | None:
    """A date typed by a person (`since`, `until`); empty is no limit."""
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise BadQuestion(f"{name} must be a date like 2020-06-01") from exc


def check_window(since: date | None, until: date | None) -> None:
    if since and until and since > until:
        raise BadQuestion(f"the start date {since.isoformat()} is after the end date {until.isoformat()}")


def summary(article: Article, chunks: int) -> ArticleSummary:
    return ArticleSummary(article_id=article.id, title=article.title, label=article.label,
                          outlet=article.outlet, published=article.published, url=article.url,
                          author=article.author, source=article.source, chunks=chunks)


class Newsdesk:
    """Holds one live generation; a re-index swaps it in while questions keep being answered."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.store = open_store(settings.store, settings.data_dir, settings.vectors)
        self.prompts = Prompts.load(settings.prompts_dir)
        self.degraded: str | None = None
        self._embedder = embedder
        self._generation: Reader | None = None
        self._feedback: FeedbackStore | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, **overrides: object) -> Newsdesk:
        """From the environment and `.env` (overrides by their flat names); invalid settings raise ConfigError."""
        return cls(load_settings(**overrides))

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = make_embedder(self.settings.embed, self.settings.models_path)
            return self._embedder

    @staticmethod
    def settings_file() -> Path | None:
        """The `.env` read: the current directory's, else the project's; front ends read theirs from it too."""
        return env_file()

    def warm_up(self) -> Status:
        """Build the index on a fresh checkout, load it and the model, so the first question is not slow."""
        if self.ensure_index() is None:
            self.generation()
        self.embedder.encode_queries(["warm up"])
        return self.status()

    def expected(self) -> Expected:
        s = self.settings
        return Expected(model=s.embed.index_name, dimension=self._embedder.dimension if self._embedder else None,
                        chunk_max_tokens=s.chunk.max_tokens, chunk_overlap_sentences=s.chunk.overlap_sentences)

    def generation(self) -> Reader:
        """The live generation; picks up a re-index made by another process at the next call."""
        current = self.store.current_name()
        loaded = self._generation
        if loaded is not None and (current is None or loaded.name == current or self.degraded):
            return loaded
        with self._lock:
            if self._generation is None or self._generation.name != current:
                self._generation = self._load()
            return self._generation

    def _load(self) -> Reader:
        """Serve the newest generation that loads; an older one is served only as 'degraded'."""
        names = self.store.names()
        current = self.store.current_name()
        if current is None:
            raise IndexNotFound(f"no index in {self.settings.data_dir}; build one with `newsdesk index`")
        try:
            generation = self.store.load(self.expected(), current, check=True)
            self.degraded = None
            return generation
        except IndexCorrupt as exc:
            for name in (n for n in names if n != current):
                try:
                    generation = self.store.load(self.expected(), name, check=True)
                except IndexCorrupt:
                    continue
                self.degraded = f"{exc}; serving the previous generation {name}"
                log.error("index degraded: %s", self.degraded)
                return generation
            raise

    def ensure_index(self, progress: Progress | None = None) -> IndexReport | None:
        """Build from seeds/ on a fresh checkout, so the first question just works."""
        return None if self.has_index() else self.reindex(progress=progress)

    def has_index(self) -> bool:
        return self.store.current_name() is not None

    def roots(self, extra: Sequence[Path] = (), rebuild: bool = False) -> list[Path]:
        """Seeds, the moderators' folder, every path once given to `index` that still exists (until a rebuild),
        and `extra`."""
        remembered = [] if rebuild else [p for p in self.remembered_roots() if p.exists()]
        paths = list(dict.fromkeys([*remembered, *(p.resolve() for p in extra)]))
        seeds = [self.settings.seeds_dir] if self.settings.seeds_dir else []
        return [*seeds, self.settings.articles_path, *paths]

    @property
    def _roots_file(self) -> Path:
        return self.settings.data_dir / "roots.json"

    def remembered_roots(self) -> list[Path]:
        path = self._roots_file
        return [Path(p) for p in json.loads(path.read_text())] if path.exists() else []

    def forget_root(self, path: Path) -> list[Path]:
        """Stop indexing a remembered path (its articles leave at the next re-index); returns what is left."""
        known = self.remembered_roots()
        wanted = path.expanduser().resolve()
        if wanted not in known:
            raise UnknownPath(f"{path} is not a remembered path; `newsdesk roots` lists them")
        left = [p for p in known if p != wanted]
        self._write_roots(left)
        return left

    def _write_roots(self, paths: list[Path]) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._roots_file.write_text(json.dumps([str(p) for p in paths], indent=1))

    def _remember(self, extra: Sequence[Path], rebuild: bool, report: IndexReport) -> None:
        """Paths given now are kept if they exist (a mistyped one fails once, not forever); a remembered path
        that has gone is forgotten with one warning rather than failing every later re-index."""
        known = self.remembered_roots()
        report.warnings += [f"{p}: indexed before, now gone; forgotten (its articles are removed)"
                            for p in known if not p.exists()]
        paths = [p for p in dict.fromkeys([*([] if rebuild else known), *(p.resolve() for p in extra)]) if p.exists()]
        if paths != known:
            self._write_roots(paths)

    def reindex(self, paths: Sequence[Path] = (), rebuild: bool = False,
                progress: Progress | None = None) -> IndexReport:
        s = self.settings
        s.articles_path.mkdir(parents=True, exist_ok=True)
        kwargs = {"progress": progress} if progress else {}
        report, generation = reindex(
            self.store, lambda: self.embedder, self.expected(), self.roots(paths, rebuild),
            max_bytes=s.max_file_bytes, chunking=s.chunk, rebuild=rebuild, **kwargs,
        )
        self._remember(paths, rebuild, report)
        if generation is not None:
            with self._lock:
                self._generation, self.degraded = generation, None
        return report

    def check_upload(self, name: str, size: int) -> str:
        """The safe name an upload will get, or UploadRefused for its type or size (before reading it)."""
        return upload.check_file(name, size, self.settings.max_file_bytes)

    def add_article(self, name: str, data: bytes) -> tuple[str, list[Article]]:
        """Save an uploaded file into the articles folder if it parses and repeats nothing indexed; returns the
        name it was saved under and its articles. The caller re-indexes (with its own progress)."""
        folder = self.settings.articles_path
        target = upload.free_path(folder, self.check_upload(name, len(data)))
        indexed = [a for a, _ in self.generation().articles()] if self.has_index() else []
        articles = upload.parse(target, data, self.settings.max_file_bytes, indexed)
        folder.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target.name, articles

    def clean_question(self, question: str) -> str:
        return clean_question(question, self.settings.max_question_chars)

    def ask(self, question: str, outlets: Sequence[str] = (), since: date | None = None,
            until: date | None = None, k: int | None = None, mode: Mode | None = None,
            as_of: date | None = None) -> Answer:
        """`as_of` answers as of a day: later articles are left out, undated ones kept."""
        began = time.perf_counter()
        cleaned = self.clean_question(question)
        check_window(since, until)
        where = ArticleFilter(tuple(o.strip() for o in outlets if o.strip()), since, until, as_of)
        config = self.settings.answer if k is None else \
            self.settings.answer.model_copy(update={"max_quotes": k, "coverage_quotes": k})
        answer = self._answer(cleaned, self.embedder.encode_queries([cleaned])[0], where, config, mode=mode)
        answer.elapsed_ms = round((time.perf_counter() - began) * 1000, 1)
        return answer

    def _answer(self, question: str, query_vector: np.ndarray, where: ArticleFilter, config: AnswerConfig,
                retrieval: RetrievalConfig | None = None, mode: Mode | None = None,
                read_facets: bool = True) -> Answer:
        s = self.settings
        generation = self.generation()
        retrieval = retrieval or s.retrieval
        retrieval = retrieval if mode is None else retrieval.model_copy(update={"mode": mode})
        passages, ranking = retrieve(generation, question, query_vector, where, retrieval)
        reading = facets.read(question, generation.outlets()) if read_facets else facets.Reading()
        facet_vectors = self._facet_vectors(query_vector, reading)
        passages = with_facets(generation, question, where, retrieval, passages,
                               list(zip(reading.facets, facet_vectors, strict=True)))
        return compose(question, query_vector, passages, ranking, generation, config, where.as_of, where,
                       s.retrieval.recent_days, reading, facet_vectors)

    def compare(self, topic: str, outlets: Sequence[str] = (), since: date | None = None,
                until: date | None = None) -> Comparison:
        """Each outlet's closest excerpts on the topic side by side; an outlet with nothing on it says so.
        Without outlets, the outlets of the closest coverage are compared."""
        began = time.perf_counter()
        cleaned = self.clean_question(topic)
        check_window(since, until)
        vector = self.embedder.encode_queries([cleaned])[0]
        indexed = self.generation().outlets()
        chosen = [name for o in outlets if o.strip() for name in (resolve(o.strip(), indexed) or [o.strip()])]
        if not chosen:  # the outlets of the closest articles, as an answer would list them; no quotes needed
            generation = self.generation()
            _, ranking = retrieve(generation, cleaned, vector, ArticleFilter(since=since, until=until),
                                  self.settings.retrieval)
            closest = generation.articles_by_id(ranking[: self.settings.answer.sources])
            chosen = list(dict.fromkeys(closest[i].outlet for i in ranking[: self.settings.answer.sources]
                                        if i in closest and closest[i].outlet))[:COMPARED_OUTLETS]
        config = self.settings.answer.model_copy(update={"max_quotes": 2, "per_article": 1,
                                                         "max_chars": self.settings.answer.max_chars // 2})
        sides = []
        for outlet in dict.fromkeys(chosen):
            answer = self._answer(cleaned, vector, ArticleFilter((outlet,), since, until), config,
                                  read_facets=False)
            sides.append(OutletCoverage(outlet=outlet, quotes=answer.quotes,
                                        why=None if answer.quotes else answer.why or "no coverage found"))
        return Comparison(topic=cleaned, since=since, until=until, outlets=sides,
                          elapsed_ms=round((time.perf_counter() - began) * 1000, 1))

    def timeline(self, topic: str, since: date | None = None, until: date | None = None) -> Timeline:
        """Dated excerpts on the topic in publication order, one per article, earliest first."""
        began = time.perf_counter()
        cleaned = self.clean_question(topic)
        check_window(since, until)
        s = self.settings
        retrieval = s.retrieval.model_copy(update={"passages": 3 * TIMELINE_QUOTES, "per_article": 1})
        config = s.answer.model_copy(update={"max_quotes": TIMELINE_QUOTES, "per_article": 1, "sentences": 2,
                                             "max_sentences": 2, "max_chars": FACET_CHARS_CAP,
                                             "margin": 2 * s.answer.margin})
        answer = self._answer(cleaned, self.embedder.encode_queries([cleaned])[0],
                              ArticleFilter(since=since, until=until), config, retrieval, read_facets=False)
        result = in_time_order(cleaned, answer)
        result.elapsed_ms = round((time.perf_counter() - began) * 1000, 1)
        return result

    @staticmethod
    def timeline_chart(timeline: Timeline) -> bytes:
        """A PNG of the timeline's articles per outlet per day or week."""
        return chart.timeline_chart(timeline)

    def _facet_vectors(self, query_vector: np.ndarray, reading: facets.Reading) -> list[np.ndarray]:
        """Each facet's query, its texts encoded once. An outlet's or day's is its text and the whole question
        averaged (its text is often thin: "the TechCrunch article on software companies"); a claim's is its
        own text, which finds the one article that makes that claim (averaging it too cost MultiHop inference
        all-facts 0.035 on the fitted half)."""
        if not reading.facets:
            return []
        texts = list(dict.fromkeys(f.text for f in reading.facets))
        encoded = dict(zip(texts, self.embedder.encode_queries(texts), strict=True))
        mixed = np.vstack([encoded[f.text] + (0.0 if f.claim else 1.0) * query_vector for f in reading.facets])
        return list(mixed / np.linalg.norm(mixed, axis=1, keepdims=True))

    def sources(self, outlet: str | None = None) -> list[ArticleSummary]:
        where = ArticleFilter(outlets=(outlet,)) if outlet else ArticleFilter()
        return [summary(a, n) for a, n in self.generation().articles(where)]

    def copy_groups(self) -> list[list[ArticleSummary]]:
        """Articles carrying the same or nearly the same text, group by group (found at index time)."""
        listed = {item.article_id: item for item in self.sources()}
        return [[listed[i] for i in group if i in listed] for group in self.generation().copy_groups()]

    def outlets(self) -> list[str]:
        return self.generation().outlets()

    def article_ids(self) -> list[str]:
        """Ids only: the articles' texts are not read."""
        return list(self.generation().content_hashes())

    def source(self, article_id: str) -> tuple[Article, ArticleSummary]:
        generation = self.generation()
        article = generation.article(article_id)
        if article is None:
            raise UnknownArticle(f"no article with id {article_id!r}; `newsdesk sources` lists them")
        return article, summary(article, len(generation.chunk_ids_of([article_id])))

    def status(self) -> Status:
        generation = self.generation()
        earliest, latest = generation.date_range()
        m = generation.manifest
        return Status(generation=m.generation, model=m.model, articles=m.articles, chunks=m.chunks,
                      outlets=len(generation.outlets()), built_at=m.built_at, earliest=earliest,
                      latest=latest, degraded=self.degraded, version=__version__,
                      settings_file=str(found) if (found := self.settings_file()) else None)

    def verify(self) -> Status:
        """Full consistency check of the live generation (raises IndexCorrupt)."""
        self.store.load(self.expected(), check=True).close()
        return self.status()

    @property
    def feedback(self) -> FeedbackStore:
        with self._lock:
            if self._feedback is None:
                assert self.settings.feedback_path is not None
                self._feedback = FeedbackStore(self.settings.feedback_path)
            return self._feedback

    def record_answer(self, answer: Answer) -> int:
        """The id 👍/👎 votes refer to."""
        return self.feedback.record_answer(answer)

    def vote(self, answer_id: int, user_id: int | str, up: bool) -> bool:
        return self.feedback.vote(answer_id, user_id, up)

    def feedback_summary(self) -> FeedbackSummary:
        return self.feedback.summary()
