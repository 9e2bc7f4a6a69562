"""Does the coverage answer the question? Signals from the retrieval, a fitted logistic model, a reason.

A cosine threshold alone cannot tell: over 2,000 articles an off-topic question always finds some
sentence at 0.3-0.6. What does tell (docs/evaluation.md, fitted by scripts/fit_answerability.py) is
whether the question's rare words are in the corpus and in the closest passages, whether the years it
names fall inside the coverage, and how well the best sentences match.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np

from index import outlets
from index.errors import ConfigError
from index.facets import written_days
from index.models import AbstainReason, Answerability, Passage
from index.store import ArticleFilter, Reader
from index.terms import TOKEN, fold, present, question_terms

MODEL_FILE = Path(__file__).with_name("answerability.json")
# The model's inputs, in the order of its weights (index/answerability.json).
FEATURES = ("confidence", "best_sentence", "best_passage", "passage_spread", "best_quote_cover", "agreement",
            "passage_cover", "quote_cover", "unknown_share", "missing_rarest", "year_after", "year_before",
            "type_missing", "recent_cue", "stale", "cue_fresh", "cue_undated", "year_unknown", "year_absent",
            "names_unknown", "names_absent", "outlet_unknown", "question_names", "general_request")
_YEAR = re.compile(r"(?<![\d$£€.,])(1[89]\d\d|20\d\d)(?![\d%])")
_MONTHS = ("january february march april may june july august september october november december "
           "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday "
           "saturday sunday yesterday today tomorrow week weeks month months year years decade century")
_DATE = re.compile(rf"\b(?:{'|'.join(_MONTHS.split())})\b|\b(?:1[89]|20)\d\d\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                     r"forty|fifty|hundred|thousand|million|billion|trillion|dozen|half|percent)\b", re.IGNORECASE)
# Words that anchor a question to the days before it is asked ("this week"), not a vague "recent".
_RECENT = re.compile(r"\b(?:this|last|past) (?:week|weekend|month)\b|\bthis year\b|\b(?:yesterday|today|tonight)\b"
                     r"|\b(?:on|this|last) (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
                     r"|\b(?:days?|weeks?) ago\b", re.IGNORECASE)
# Requests no news report answers: how-to, advice, definitions, sums, chit-chat, writing.
_GENERAL = re.compile(
    r"^\s*(?:how (?:do|can|should|would) (?:i|you|we|one)\b|how to\b|(?:can|could|would|will) you\b|"
    r"(?:please\s+)?(?:tell|give|show|write|translate|explain|define|recommend|suggest)\b|"
    r"what(?:'s| is| are) (?:a |an |the )?(?:good|best|difference|meaning|definition|origin|rules)\b|"
    r"what should i\b|should i\b|is \d+ a\b|what is (?:the )?(?:square root|derivative|integral|sum)\b)"
    r"|\byour (?:favou?rite|name|opinion)\b|\bhow (?:does|do) [\w\s-]+ work\??$", re.IGNORECASE)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'&-]+")
_ASKS_DATE = re.compile(r"^\s*when\b|\bwhat (?:year|date|day|month|time)\b|\bhow long\b", re.IGNORECASE)
_ASKS_NUMBER = re.compile(r"\bhow (?:many|much|old|far|big|large|tall|long)\b|\bwhat (?:percentage|percent|"
                          r"number|amount|share|age)\b", re.IGNORECASE)
_ASKS_NAME = re.compile(r"^\s*(?:who|whom|whose)\b|\b(?:which|what) (?:\w+ )?(?:team|country|state|city|company|"
                        r"party|nation|club|person|player|actor|actress|singer|band|film|movie|show|brand)\b",
                        re.IGNORECASE)


def years(question: str) -> list[int]:
    return sorted({int(y) for y in _YEAR.findall(question)})


def asked_type(question: str) -> str | None:
    """The kind of entity a quiz-style question asks for, when its wording says so."""
    if _ASKS_DATE.search(question):
        return "date"
    if _ASKS_NUMBER.search(question):
        return "number"
    if _ASKS_NAME.search(question):
        return "name"
    return None


def has_type(kind: str, text: str, question: str) -> bool:
    if kind == "date":
        return bool(_DATE.search(text))
    if kind == "number":
        return bool(_NUMBER.search(text))
    return bool(set(_NAME.findall(text)) - set(_NAME.findall(question)))


@dataclass(frozen=True, slots=True)
class Model:
    """Logistic regression over named signals; `threshold` is the probability below which we abstain."""

    weights: dict[str, float]
    bias: float
    threshold: float

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> Model:
        data = json.loads(path.read_text(encoding="utf-8"))
        missing = set(FEATURES) - set(data["weights"])
        if missing:
            raise ConfigError(f"{path} has no weight for {', '.join(sorted(missing))}; refit it with "
                              "scripts/fit_answerability.py")
        return cls(weights=data["weights"], bias=data["bias"], threshold=data["threshold"])

    def probability(self, signals: dict[str, float]) -> float:
        z = self.bias + sum(self.weights[name] * signals[name] for name in FEATURES)
        return 1.0 / (1.0 + math.exp(-z))


@cache
def default_model() -> Model:
    return Model.load()


@dataclass(slots=True)
class Evidence:
    """What the decision reads: the question, the retrieval, and the would-be quotes.

    `published` holds each passage's article date; `as_of` is the day the question is asked.
    """

    question: str
    passages: Sequence[Passage]
    quoted: Sequence[str]
    confidence: float
    best_sentence: float
    similarities: Sequence[float]
    where: ArticleFilter
    as_of: date
    published: Sequence[date | None] = ()
    recent_days: int = 7


@dataclass(slots=True)
class Decision:
    answerability: Answerability
    answer: bool
    reason: AbstainReason | None = None
    why: str | None = None
    partial: str | None = None


@dataclass(slots=True)
class Signals:
    values: dict[str, float]
    unknown: list[str]
    absent: list[str]
    earliest: date | None
    newest: date | None
    foreign_outlets: list[str]


def _without_covered_days(question: str, low: date | None, high: date | None) -> str:
    """The question without the days it writes out within the coverage's dates ("the report on November 5,
    2023"): they say when something was published or happened, and articles rarely write their own date, so
    neither the year nor the day is a word the coverage must contain."""
    if low is None or high is None:
        return question
    for match, day in reversed(written_days(question)):
        if low <= day <= high:
            question = question[:match.start()] + " " + question[match.end():]
    return question


def signals(evidence: Evidence, generation: Reader) -> Signals:
    """The model's inputs, with the question's words missing from the corpus and from the passages.

    Each word weighs by its BM25 idf over the chunks, so "Euro" and "2024" count for more than "won".
    A question about "this week" asked of coverage whose newest article is months old is not answered.
    """
    low, high = generation.date_range(evidence.where)
    asked = _without_covered_days(evidence.question, low, high)
    terms = question_terms(asked)
    total = max(1, generation.manifest.chunks)
    frequencies = generation.document_frequencies(terms)
    idf = {t: math.log(1 + (total - df + 0.5) / (df + 0.5)) for t, df in frequencies.items()}
    weight = sum(idf.values()) or 1.0
    passage_stems = present(" ".join(p.chunk.text for p in evidence.passages), terms)
    each_quote = [present(q, terms) for q in evidence.quoted]
    quote_stems = set().union(*each_quote)
    unknown = sorted((t for t in terms if frequencies[t] == 0), key=lambda t: _specificity(terms[t]))
    absent = sorted((t for t in terms if t not in passage_stems), key=lambda t: -idf[t])
    top_idf = math.log(1 + (total + 0.5) / 0.5)
    named = years(asked)
    kind = asked_type(evidence.question)
    names = present(" ".join(_NAME.findall(evidence.question)), terms)
    cue = float(bool(_RECENT.search(evidence.question)))
    foreign = outlets.unknown(evidence.question, generation.outlets())
    window = [d is not None and 0 <= (evidence.as_of - d).days <= evidence.recent_days for d in evidence.published]
    values = {
        "confidence": evidence.confidence,
        "best_sentence": evidence.best_sentence,
        "best_passage": max(evidence.similarities, default=0.0),
        "passage_spread": max(evidence.similarities, default=0.0) - float(np.median(evidence.similarities))
        if evidence.similarities else 0.0,
        "best_quote_cover": max((sum(idf[t] for t in terms if t in quoted) / weight for quoted in each_quote),
                                default=0.0),
        "agreement": _share(p.dense_rank is not None for p in evidence.passages if p.keyword_rank is not None),
        "passage_cover": sum(idf[t] for t in terms if t in passage_stems) / weight,
        "quote_cover": sum(idf[t] for t in terms if t in quote_stems) / weight,
        "unknown_share": sum(idf[t] for t in unknown) / weight,
        "missing_rarest": idf[absent[0]] / top_idf if absent else 0.0,
        "year_after": float(bool(named and high and min(named) > high.year)),
        "year_before": float(bool(named and low and max(named) < low.year)),
        "type_missing": float(kind is not None and bool(evidence.quoted)
                              and not any(has_type(kind, q, evidence.question) for q in evidence.quoted)),
        "recent_cue": cue,
        "stale": cue * min(1.0, max(0, (evidence.as_of - high).days - evidence.recent_days) / 30) if high else 0.0,
        "cue_fresh": cue * _share(window),
        "cue_undated": cue * _share(d is None for d in evidence.published),
        "year_unknown": float(any(frequencies.get(str(y), 1) == 0 for y in named)),
        "year_absent": float(any(str(y) not in passage_stems for y in named)),
        "names_unknown": _share(frequencies[t] == 0 for t in names),
        "names_absent": _share(t not in passage_stems for t in names),
        "outlet_unknown": float(bool(foreign)),
        "question_names": min(len(names), 3) / 3,
        "general_request": float(bool(_GENERAL.search(evidence.question))),
    }
    return Signals(values, _surface(evidence.question, [terms[t] for t in unknown]),
                   _surface(evidence.question, [terms[t] for t in absent]), low, high, foreign)


def _specificity(word: str) -> tuple[bool, int]:
    """Sort key naming the most telling words first: numbers ("carbon-14", "2024"), then longer words."""
    return (not any(ch.isdigit() for ch in word), -len(word))


def _surface(question: str, words: list[str]) -> list[str]:
    """Each word as the question writes it ("carbon-14", not "carbon" and "14"), without repeats."""
    written = [w.strip(".,;:!?\"'“”‘’()[]") for w in question.split()]
    shown = []
    for word in words:
        shown.append(next((w for w in written if word in TOKEN.findall(fold(w))), word))
    return list(dict.fromkeys(shown))


def _share(flags: Iterable[bool]) -> float:
    items = list(flags)
    return sum(items) / len(items) if items else 0.0


def decide(evidence: Evidence, generation: Reader, threshold: float | None = None,
           model: Model | None = None) -> Decision:
    """Answer, or abstain with the reason a person can act on; label answers that cover only part."""
    model = model or default_model()
    if evidence.where.active and not generation.admitted(evidence.where):
        return Decision(Answerability(probability=0.0), False, AbstainReason.no_match, _no_match(evidence.where))
    found = signals(evidence, generation)
    probability = model.probability(found.values)
    answerability = Answerability(probability=round(probability, 4), quotable=bool(evidence.quoted),
                                  signals={k: round(v, 4) for k, v in found.values.items()},
                                  missing_terms=found.absent)
    cut = model.threshold if threshold is None else threshold
    # What an outlet reported can only be quoted from that outlet: naming one the index lacks is decisive; so
    # is a year after the newest article that no article writes (coverage cannot report what came after it).
    beyond = found.values["year_after"] and found.values["year_unknown"]
    if evidence.quoted and probability >= cut and not found.foreign_outlets and not beyond:
        partial = None
        if found.values["type_missing"]:
            partial = f"None of the quotes gives the {asked_type(evidence.question)} asked for."
        return Decision(answerability, True, partial=partial)
    reason, why = _reason(found, evidence)
    return Decision(answerability, False, reason, why)


def _reason(found: Signals, evidence: Evidence) -> tuple[AbstainReason, str]:
    values, low, high = found.values, found.earliest, found.newest
    if found.foreign_outlets:
        return AbstainReason.unknown_outlet, f"No indexed article is from {_listed(found.foreign_outlets)}."
    if values["general_request"]:
        return AbstainReason.not_news, ("That asks for general knowledge or advice; I only quote what the indexed "
                                        "news coverage reports.")
    if (values["year_after"] or values["year_before"]) and low and high:
        outside = [str(y) for y in years(evidence.question) if y > high.year or y < low.year]
        return AbstainReason.out_of_range, (f"The coverage runs from {low.isoformat()} to {high.isoformat()}; "
                                            f"nothing is dated {' or '.join(outside)}.")
    unwritten = [str(y) for y in years(evidence.question) if str(y) in found.unknown]
    if unwritten:
        return AbstainReason.unknown_terms, f"No indexed article mentions {' or '.join(unwritten)}."
    if values["stale"] >= 0.5 and high:
        return AbstainReason.out_of_range, (f"The newest article is from {high.isoformat()}; nothing covers the "
                                            f"days before {evidence.as_of.isoformat()} the question asks about.")
    if found.unknown and values["unknown_share"] >= 0.2:
        return AbstainReason.unknown_terms, f"No indexed article mentions {_listed(found.unknown)}."
    if found.absent and values["passage_cover"] < 0.75:
        return AbstainReason.terms_missing, f"The closest passages never mention {_listed(found.absent)}."
    return AbstainReason.weak_match, "The closest passages are about something else; none of them answers it."


def _listed(words: list[str]) -> str:
    shown = [f"“{w}”" for w in words[:2]]
    return " or ".join(shown)


def _no_match(where: ArticleFilter) -> str:
    parts = []
    if where.outlets:
        parts.append("outlet " + " or ".join(f"'{o}'" for o in where.outlets))
    if where.since:
        parts.append(f"since {where.since.isoformat()}")
    if where.until:
        parts.append(f"until {where.until.isoformat()}")
    if where.as_of and not (where.since or where.until):
        parts.append(f"published by {where.as_of.isoformat()}")
    return f"No article matches {' '.join(parts)}."
