"""Words as the keyword index sees them: one tokenizer and stemmer for indexing, queries and the
answerability signals, so a question's stem is found under the very term the index holds.

Text is folded (lower case, no diacritics), cut on anything not a letter or digit, and Porter-stemmed
(PyStemmer, the C Snowball library): the analysis SQLite FTS5's `porter unicode61` gave, kept when
keyword search moved to tantivy so BM25 sees the same terms as before.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

import Stemmer

TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_TERM = re.compile(r"\w+", re.UNICODE)
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Question words carry no topic; leaving them out keeps BM25 from rewarding "what" and "the".
STOPWORDS = frozenset("""
a about after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he
her here hers herself him himself his how i if in into is it its itself just me more most my myself
no nor not now of off on once only or other our ours out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you your yours
""".split())


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("porter")


def fold(text: str) -> str:
    """Lower case without diacritics."""
    lowered = text.lower()
    return lowered if lowered.isascii() else _COMBINING.sub("", unicodedata.normalize("NFKD", lowered))


def stems(text: str) -> list[str]:
    """Every word's stem, in order: what the keyword index holds for a text."""
    return _stemmer().stemWords(TOKEN.findall(fold(text)))


def question_terms(question: str) -> dict[str, str]:
    """Content words of the question by stem, each with its surface form."""
    words = [w for w in TOKEN.findall(fold(question)) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return dict(zip(_stemmer().stemWords(words), words, strict=True))


def query_stems(question: str) -> list[str]:
    """What keyword search looks for: the question's content stems, or all its stems when it has none."""
    return list(question_terms(question)) or list(dict.fromkeys(stems(question)))


def present(text: str, wanted: Iterable[str]) -> set[str]:
    """Which of the wanted stems occur in the text. Porter only cuts and changes word endings, so only the
    words sharing a stem's first two letters are stemmed: a tenth of a passage's words."""
    wanted = set(wanted)
    heads = {stem[:2] for stem in wanted} | {stem[:1] for stem in wanted if len(stem) < 3}  # "us" -> "u"
    words = [w for w in set(TOKEN.findall(fold(text))) if w[:2] in heads or w[:1] in heads]
    return wanted.intersection(_stemmer().stemWords(words))


def content_terms(text: str) -> set[str]:
    """Lower-cased words without question words, as the answerer compares a quote with the question."""
    return {t for t in _TERM.findall(text.lower()) if t not in STOPWORDS}
