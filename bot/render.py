"""Answers and listings -> Discord messages within Discord's limits. Pure functions, unit-tested.

Everything that came from an article or a question is escaped, so it can neither ping nor break
the reply's markdown; allowed_mentions=none is set on every send as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import discord
from discord.utils import escape_markdown, escape_mentions

from bot import limits
from index.models import Answer, ArticleSummary, Comparison, Quote, SourceRef, Timeline
from index.service import Prompts

COLOUR = discord.Colour.dark_teal()
# Characters of an article's title where it shares an embed with others (the title line counts to 6,000).
_PART_TITLE = 45
_SENTENCE_END = re.compile(r"(?<=[.!?…\"”’)])\s+")


def clean(text: str) -> str:
    """Article or user text made inert: no mentions, no markdown."""
    return escape_mentions(escape_markdown(text, as_needed=False))


def shorten(text: str, limit: int, marker: str = "…") -> str:
    """At a sentence end if one is in the second half, else at a word boundary; never mid-word."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(marker)]
    cut = max((m.start() for m in _SENTENCE_END.finditer(head)), default=-1)
    if cut < len(head) // 2:
        cut = head.rfind(" ")
    return (head[:cut] if cut > 0 else head).rstrip() + marker


def attribution(ref: SourceRef) -> str:
    parts = [ref.outlet, ref.published.isoformat() if ref.published else None]
    return " · ".join(clean(p) for p in parts if p) or "source"


@dataclass
class Reply:
    """What one send needs; `trimmed` tells the caller a 'more' affordance is due."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    trimmed: list[str] = field(default_factory=list)


def _quote_block(quote: Quote) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in clean(quote.text).splitlines())


@dataclass
class Section:
    """One embed: an article's quotes under its title, attribution in the footer; or, when a message holds
    more articles than embeds, several articles' quotes, each under its title and attribution (`parts`)."""

    key: str
    title: str
    url: str | None
    quotes: list[Quote]
    footer: str
    parts: list[Section] = field(default_factory=list)

    @property
    def description(self) -> str:
        if not self.parts:
            return "\n\n".join(_quote_block(q) for q in self.quotes)
        several = len(_outlets(self.parts)) > 1
        return "\n\n".join(f"**{shorten(part.title, _PART_TITLE)}** · {_byline(part.quotes[0], several)}\n"
                             f"{part.description}" for part in self.parts)


def _article_sections(quotes: list[Quote], prefix: str = "") -> list[Section]:
    """Consecutive quotes of one article share a section."""
    sections: list[Section] = []
    for quote in quotes:
        if sections and sections[-1].key == quote.article_id:
            sections[-1].quotes.append(quote)
            continue
        sections.append(Section(quote.article_id, prefix + clean(quote.title or quote.label), quote.url,
                                [quote], _byline(quote)))
    return sections


def _byline(quote: Quote, outlet: bool = True) -> str:
    """Who spoke, the outlet (unless the embed's title already names it) and date, the id, the wire copies."""
    also = "; ".join(attribution(ref) for ref in quote.also_carried_by)
    named = outlet and quote.outlet
    said = f"{clean(', '.join(quote.speakers))}, quoted {'by ' if named else '· '}" if quote.speakers else ""
    where = attribution(quote if named else quote.model_copy(update={"outlet": None}))
    return f"{said}{where} · id {quote.article_id}" + (f" · also carried by {also}" if also else "")


def _packed(sections: list[Section]) -> list[Section]:
    """At most one message's embeds: neighbours share one, the smallest pair first and one outlet's before
    two outlets' (an answer about the coverage quotes up to 16 articles, in outlet or date order)."""
    groups = [[section] for section in sections]
    while len(groups) > limits.EMBEDS_PER_MESSAGE:
        at = min(range(len(groups) - 1), key=lambda i: (len(_outlets(groups[i] + groups[i + 1])) > 1,
                                                        len(groups[i]) + len(groups[i + 1])))
        groups[at:at + 2] = [groups[at] + groups[at + 1]]
    return [group[0] if len(group) == 1 else
            Section(group[0].key, " · ".join(_outlets(group)) or "sources", None, [q for g in group for q in g.quotes],
                    f"{len(group)} articles", parts=group) for group in groups]


def _outlets(sections: list[Section]) -> list[str]:
    return list(dict.fromkeys(clean(s.quotes[0].outlet) for s in sections if s.quotes[0].outlet))


def _add_sections(reply: Reply, sections: list[Section]) -> Reply:
    """As many sections as the message's embed budget holds; a cut one ends with where to read on."""
    budget = limits.EMBED_TOTAL
    for section in _packed(sections):
        embed = discord.Embed(title=shorten(section.title, limits.EMBED_TITLE), url=section.url or None,
                              colour=COLOUR)
        footer = shorten(section.footer, limits.EMBED_FOOTER)
        more = f"\n*(more: /source {clean(section.key)})*"  # ids run to 120 characters: budget it
        room = min(limits.EMBED_DESCRIPTION, budget - len(embed.title or "") - len(footer))
        if room < 80 + len(more):
            reply.trimmed.append(section.key)
            break
        description = section.description
        if len(description) > room:
            reply.trimmed.append(section.key)
            description = shorten(description, room - len(more)) + more
        embed.description = description
        embed.set_footer(text=footer)
        budget -= len(embed)
        reply.embeds.append(embed)
    return reply


def render_answer(answer: Answer, prompts: Prompts) -> Reply:
    """One embed per article (title links to it), its quotes as block quotes, outlet and date below; beyond
    ten articles, neighbours share an embed."""
    question = shorten(clean(answer.question), 300)
    if answer.abstained:
        template = prompts.not_covered if answer.closest else prompts.no_sources
        lines = [template.safe_substitute(question=question)]
        lines += [clean(answer.why)] if answer.why else []
        lines += [f"- {source_line(s)}" for s in answer.closest]
        return Reply(content=shorten("\n".join(lines), limits.MESSAGE))
    header = prompts.answer_header.safe_substitute(question=question)
    if answer.partial:
        header += f"\n*Partly answered: {clean(answer.partial)}*"
    if answer.missing:
        header += f"\n*No quote from {clean(', '.join(answer.missing))}.*"
    return _add_sections(Reply(content=shorten(header, limits.MESSAGE)), _article_sections(answer.quotes))


def render_comparison(comparison: Comparison) -> Reply:
    """Outlets in turn, one embed per article quoted (titled by its outlet); those with nothing, named."""
    lines = [f"**How the coverage compares on:** {shorten(clean(comparison.topic), 300)}"]
    empty = [side.outlet for side in comparison.outlets if not side.quotes]
    if empty:
        lines.append(f"No coverage found: {clean(', '.join(empty))}")
    if not comparison.covered:
        lines.append("None of these outlets has anything on it.")
    sections = [section for side in comparison.covered
                for section in _article_sections(side.quotes, prefix=f"{clean(side.outlet)}: ")]
    return _add_sections(Reply(content=shorten("\n".join(lines), limits.MESSAGE)), sections)


def render_timeline(timeline: Timeline) -> Reply:
    """One embed per report in publication order, its day (or week) leading the title; the first marked."""
    topic = shorten(clean(timeline.topic), 300)
    if timeline.abstained:
        return Reply(content=shorten(f"No timeline for: {topic}\n{clean(timeline.why or '')}".strip(),
                                     limits.MESSAGE))
    content = f"**Timeline of the coverage:** {topic} (by {timeline.by}, earliest first)"
    sections = []
    for period in timeline.periods:
        for quote in period.quotes:
            mark = "earliest report · " if quote is timeline.earliest else ""
            sections += _article_sections([quote], prefix=f"{period.label} · {mark}")
    sections += _article_sections(timeline.undated, prefix="undated · ")
    return _add_sections(Reply(content=shorten(content, limits.MESSAGE)), sections)


def source_line(ref: SourceRef) -> str:
    title = shorten(clean(ref.title or ref.label), 200)
    linked = f"[{title}](<{ref.url}>)" if ref.url else f"**{title}**"
    return f"{linked} — {attribution(ref)}"


def render_sources_page(items: list[ArticleSummary], page: int, per_page: int, summary: str) -> discord.Embed:
    pages = max(1, -(-len(items) // per_page))
    page = min(max(page, 0), pages - 1)
    lines = [f"{i + 1}. {source_line(s)} (`{clean(s.article_id)}`)"
             for i, s in enumerate(items[page * per_page:(page + 1) * per_page], start=page * per_page)]
    embed = discord.Embed(title="Indexed sources", colour=COLOUR,
                          description=shorten("\n".join(lines) or "No articles match.", limits.EMBED_DESCRIPTION))
    embed.set_footer(text=shorten(f"{summary} · page {page + 1}/{pages}", limits.EMBED_FOOTER))
    return embed


def render_source(summary: ArticleSummary, text: str, opening_chars: int = 1200) -> discord.Embed:
    embed = discord.Embed(title=shorten(clean(summary.title or summary.label), limits.EMBED_TITLE),
                          url=summary.url or None, colour=COLOUR,
                          description=shorten(clean(text.strip()), opening_chars))
    for name, value in (("Outlet", summary.outlet), ("Published", summary.published),
                        ("Author", summary.author), ("Chunks", summary.chunks), ("Id", summary.article_id)):
        if value:
            embed.add_field(name=name, value=shorten(clean(str(value)), limits.EMBED_FIELD), inline=True)
    return embed


def render_text(text: str) -> str:
    """Plain status text (reports, refusals), inert and within the content limit."""
    return shorten(escape_mentions(text), limits.MESSAGE)
