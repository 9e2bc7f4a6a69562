"""The facade the CLI and the bot call: ask, sources, source, reindex, status."""

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

from index.answer import AnswerConfig, Weights, compose
from index.build import Progress, reindex
from index.config import Settings
from index.embed import Embedder, embedder_name, make_embedder
from index.errors import BadQuestion, IndexCorrupt, IndexNotFound, UnknownArticle
from index.models import Answer, Article, ArticleSummary, IndexReport, Status
from index.prompts import Prompts
from index.retrieve import Mode, RetrievalConfig, retrieve
from index.store import ArticleFilter, Expected, Generation, Store
from index.vectors import Layout

log = logging.getLogger(__name__)
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
        self.store = Store(settings.data_dir, Layout(settings.exact_max_chunks, settings.ivf_nprobe))
        self.prompts = Prompts.load(settings.prompts_dir)
        self.degraded: str | None = None
        self._embedder = embedder
        self._generation: Generation | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = make_embedder(self.settings)
            return self._embedder

    def expected(self) -> Expected:
        s = self.settings
        return Expected(model=embedder_name(s.model, s.embed_backend),
                        dimension=self._embedder.dimension if self._embedder else None,
                        chunk_max_tokens=s.chunk_max_tokens, chunk_overlap_sentences=s.chunk_overlap_sentences)

    def generation(self) -> Generation:
        """The live generation; picks up a re-index made by another process at the next call."""
        current = self.store.current_name()
        loaded = self._generation
        if loaded is not None and (current is None or loaded.name == current or self.degraded):
            return loaded
        with self._lock:
            if self._generation is None or self._generation.name != current:
                self._generation = self._load()
            return self._generation

    def _load(self) -> Generation:
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
        if self.store.current_name() is not None:
            return None
        return self.reindex(progress=progress)

    def roots(self, extra: Sequence[Path] = (), rebuild: bool = False) -> list[Path]:
        """Seeds, the moderators' folder, and every path ever given to `index` (until a rebuild)."""
        remembered = self.settings.data_dir / "roots.json"
        known = [] if rebuild or not remembered.exists() else [Path(p) for p in json.loads(remembered.read_text())]
        paths = list(dict.fromkeys([*known, *(p.resolve() for p in extra)]))
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        remembered.write_text(json.dumps([str(p) for p in paths], indent=1))
        self.settings.articles_path.mkdir(parents=True, exist_ok=True)
        seeds = [self.settings.seeds_dir] if self.settings.seeds_dir else []
        return [*seeds, self.settings.articles_path, *paths]

    def reindex(self, paths: Sequence[Path] = (), rebuild: bool = False,
                progress: Progress | None = None) -> IndexReport:
        s = self.settings
        kwargs = {"progress": progress} if progress else {}
        report, generation = reindex(
            self.store, lambda: self.embedder, self.expected(), self.roots(paths, rebuild),
            max_bytes=s.max_file_bytes, chunk_max_tokens=s.chunk_max_tokens,
            overlap=s.chunk_overlap_sentences, rebuild=rebuild, **kwargs,
        )
        if generation is not None:
            with self._lock:
                self._generation, self.degraded = generation, None
        return report

    def ask(self, question: str, outlets: Sequence[str] = (), since: date | None = None,
            until: date | None = None, k: int | None = None, mode: Mode = Mode.rerank,
            as_of: date | None = None) -> Answer:
        """`as_of` answers as of a day: later articles are left out, undated ones kept."""
        began = time.perf_counter()
        s = self.settings
        cleaned = clean_question(question, s.max_question_chars)
        check_window(since, until)
        generation = self.generation()
        query_vector = self.embedder.encode([cleaned])[0]
        where = ArticleFilter(tuple(o.strip() for o in outlets if o.strip()), since, until, as_of)
        config = RetrievalConfig(candidates=s.candidates, rrf_k=s.rrf_k, per_article=s.per_article_passages,
                                 passages=s.passages, mode=mode, recent_days=s.recent_days,
                                 recent_weight=s.recent_weight, rerank_weight=s.rerank_weight)
        passages, ranking = retrieve(generation, cleaned, query_vector, where, config)
        answer = compose(cleaned, query_vector, passages, ranking, generation, AnswerConfig(
            max_quotes=k or s.max_quotes, max_chars=s.max_quote_chars,
            max_sentences=s.max_excerpt_sentences, floor=s.quote_floor, abstain_below=s.abstain_threshold,
            margin=s.quote_margin, weights=Weights(recency=s.quote_recency_weight, lead=s.quote_lead_weight,
                                                   recent_days=s.recent_days)), as_of, where)
        answer.elapsed_ms = round((time.perf_counter() - began) * 1000, 1)
        return answer

    def sources(self, outlet: str | None = None) -> list[ArticleSummary]:
        where = ArticleFilter(outlets=(outlet,)) if outlet else ArticleFilter()
        return [summary(a, n) for a, n in self.generation().articles(where)]

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
                      latest=latest, degraded=self.degraded)

    def verify(self) -> Status:
        """Full consistency check of the live generation (raises IndexCorrupt)."""
        self.store.load(self.expected(), check=True).close()
        return self.status()
