"""Browsing the coverage: /sources (paged), /source, /status, /help."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import choices, limits
from bot.render import COLOUR, render_source, render_sources_page, render_text, shorten
from bot.replies import apologise
from index.errors import UnknownArticle
from index.models import Article, ArticleSummary
from index.service import Newsdesk

PER_PAGE = 10


class SourcesPager(discord.ui.View):
    """Prev/next buttons that only the person who ran /sources can press."""

    def __init__(self, owner_id: int, items: list[ArticleSummary], summary: str, page: int) -> None:
        super().__init__(timeout=600)
        self.owner_id, self.items, self.summary = owner_id, items, summary
        self.pages = max(1, -(-len(items) // PER_PAGE))
        self.page = min(max(page, 0), self.pages - 1)
        self._sync_buttons()

    def embed(self) -> discord.Embed:
        return render_sources_page(self.items, self.page, PER_PAGE, self.summary)

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "Only the person who ran /sources can turn its pages; run /sources yourself.", ephemeral=True)
            return False
        return True

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       item: discord.ui.Item[Any]) -> None:
        await apologise(interaction, error)

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = min(max(self.page + step, 0), self.pages - 1)
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.embed(), view=self)

    @discord.ui.button(label="◀ Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next ▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, 1)


class SourcesCog(commands.Cog):
    def __init__(self, desk: Newsdesk, mode: str) -> None:
        """`mode` says how the bot listens (mentions, Q&A channels), for /status."""
        self.desk, self.mode = desk, mode
        self.started = time.monotonic()

    async def _run(self, function: Any, *args: Any) -> Any:
        return await asyncio.to_thread(function, *args)

    def _summary(self) -> str:
        status = self.desk.status()
        span = f"{status.earliest} – {status.latest}" if status.earliest else "no dates"
        built = status.built_at.strftime("%Y-%m-%d %H:%M UTC") if status.built_at else "never"
        return f"{status.articles} articles · {status.outlets} outlets · {span} · last re-index {built}"

    @app_commands.command(name="sources")
    @app_commands.describe(outlet="Only this outlet", page="Page to open (1 = first)")
    async def sources(self, interaction: discord.Interaction, outlet: str | None = None,
                      page: app_commands.Range[int, 1, 10_000] = 1) -> None:
        """List the indexed articles: outlet, date, title, link."""
        items, summary = await self._run(lambda: (self.desk.sources(outlet), self._summary()))
        view = SourcesPager(interaction.user.id, items, summary, page - 1)
        await interaction.response.send_message(embed=view.embed(), view=view,
                                                allowed_mentions=discord.AllowedMentions.none())

    @sources.autocomplete("outlet")
    async def outlet_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await choices.outlets(self.desk, current)

    @app_commands.command(name="source")
    @app_commands.describe(article="Start typing a title")
    async def source(self, interaction: discord.Interaction, article: str) -> None:
        """Show one article: its metadata and opening lines."""
        try:
            found, summary = await self._run(self._find, article)
        except UnknownArticle:
            await interaction.response.send_message(
                "No such article; pick one from the suggestions or run /sources.", ephemeral=True)
            return
        await interaction.response.send_message(embed=render_source(summary, found.text),
                                                allowed_mentions=discord.AllowedMentions.none())

    def _find(self, article: str) -> tuple[Article, ArticleSummary]:
        """An id, or its first characters: Discord cuts choice values, and ids may be longer."""
        try:
            return self.desk.source(article)
        except UnknownArticle:
            if len(article) < limits.CHOICE_VALUE:
                raise
            matches = [i for i in self.desk.article_ids() if i.startswith(article)]
            if len(matches) != 1:
                raise
            return self.desk.source(matches[0])

    @source.autocomplete("article")
    async def article_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await choices.articles(self.desk, current)

    @app_commands.command(name="status")
    async def status(self, interaction: discord.Interaction) -> None:
        """Index size, model, last re-index, uptime and version."""
        status = await self._run(self.desk.status)
        uptime = int(time.monotonic() - self.started)
        embed = discord.Embed(title="Newsdesk status", colour=COLOUR)
        for name, value in (("Articles", status.articles), ("Chunks", status.chunks), ("Outlets", status.outlets),
                            ("Model", status.model), ("Generation", status.generation),
                            ("Last re-index", status.built_at.strftime("%Y-%m-%d %H:%M UTC") if status.built_at else "never"),
                            ("Uptime", f"{uptime // 3600}h {uptime % 3600 // 60}m {uptime % 60}s"),
                            ("Version", status.version), ("Mode", self.mode)):
            embed.add_field(name=name, value=shorten(str(value), limits.EMBED_FIELD), inline=True)
        if status.degraded:
            embed.add_field(name="Degraded", value=shorten(render_text(status.degraded), limits.EMBED_FIELD), inline=False)
        await interaction.response.send_message(embed=embed)

    @app_commands.command(name="help")
    async def help(self, interaction: discord.Interaction) -> None:
        """What Newsdesk does and how to ask."""
        text = self.desk.prompts.help.safe_substitute()
        await interaction.response.send_message(shorten(text, limits.MESSAGE), ephemeral=True)
