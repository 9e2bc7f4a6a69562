"""A question's words as keyword search and the answerer see them: lower-cased, question words left out."""

from __future__ import annotations

import re

_TERM = re.compile(r"\w+", re.UNICODE)
# Question words carry no topic; leaving them out keeps BM25 from rewarding "what" and "the".
STOPWORDS = frozenset("""
a about after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he
her here hers herself him himself his how i if in into is it its itself just me more most my myself
no nor not now of off on once only or other our ours out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you your yours
""".split())


def content_terms(text: str) -> set[str]:
    return {t for t in _TERM.findall(text.lower()) if t not in STOPWORDS}


def fts_query(question: str) -> str | None:
    """Quoted terms OR-ed together: FTS5 syntax in a question can never break the query."""
    terms = [t for t in dict.fromkeys(_TERM.findall(question.lower())) if t not in STOPWORDS]
    if not terms:
        terms = list(dict.fromkeys(_TERM.findall(question.lower())))
    return " OR ".join(f'"{t}"' for t in terms) or None
