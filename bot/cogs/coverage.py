"""/compare and /timeline: questions about the coverage itself, outlets side by side and reports in order."""

from __future__ import annotations

import asyncio
import io
from datetime import date

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import checked_window
from bot.render import render_comparison, render_text, render_timeline
from bot.settings import BotSettings
from index.errors import BadQuestion
from index.service import Newsdesk

NONE = discord.AllowedMentions.none()


class CoverageCog(commands.Cog):
    """Both run the core in a worker thread, at most `max_concurrent` at once, so the gateway keeps beating."""

    def __init__(self, desk: Newsdesk, settings: BotSettings) -> None:
        self.desk = desk
        self._running = asyncio.Semaphore(settings.max_concurrent)

    async def _checked(self, interaction: discord.Interaction, topic: str, since: str | None,
                       until: str | None) -> tuple[date | None, date | None] | None:
        """The date window, or None after telling the user (only them) what to fix."""
        try:
            window = checked_window(self.desk, topic, since, until)
        except BadQuestion as exc:
            await interaction.response.send_message(render_text(str(exc)), ephemeral=True)
            return None
        return window

    @app_commands.command(name="compare")
    @app_commands.describe(topic="What to compare the coverage of",
                           outlets="Outlets, separated by commas (default: those of the closest coverage)",
                           since="Only articles published on/after (YYYY-MM-DD)",
                           until="Only articles published on/before (YYYY-MM-DD)")
    async def compare(self, interaction: discord.Interaction, topic: str, outlets: str | None = None,
                      since: str | None = None, until: str | None = None) -> None:
        """Each outlet's closest excerpts on a topic, side by side."""
        window = await self._checked(interaction, topic, since, until)
        if window is None:
            return
        await interaction.response.defer(thinking=True)
        names = [name.strip() for name in (outlets or "").split(",") if name.strip()]
        async with self._running:
            comparison = await asyncio.to_thread(self.desk.compare, topic, names, *window)
        reply = render_comparison(comparison)
        await interaction.followup.send(content=reply.content, embeds=reply.embeds, allowed_mentions=NONE)

    @app_commands.command(name="timeline")
    @app_commands.describe(topic="The story to follow", since="Only articles published on/after (YYYY-MM-DD)",
                           until="Only articles published on/before (YYYY-MM-DD)")
    async def timeline(self, interaction: discord.Interaction, topic: str, since: str | None = None,
                       until: str | None = None) -> None:
        """Dated excerpts on a story in publication order, with a chart of the reports per outlet."""
        window = await self._checked(interaction, topic, since, until)
        if window is None:
            return
        await interaction.response.defer(thinking=True)
        async with self._running:
            result = await asyncio.to_thread(self.desk.timeline, topic, *window)
            png = None if result.abstained else await asyncio.to_thread(self.desk.timeline_chart, result)
        reply = render_timeline(result)
        files = [discord.File(io.BytesIO(png), filename="timeline.png")] if png else []
        await interaction.followup.send(content=reply.content, embeds=reply.embeds, files=files,
                                        allowed_mentions=NONE)
