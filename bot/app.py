"""The Discord client: the desk and settings come in from the command, cogs load in setup_hook, commands
sync only on request."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.admin import AdminCog
from bot.cogs.ask import AskCog, FeedbackButton
from bot.cogs.coverage import CoverageCog
from bot.cogs.sources import SourcesCog
from bot.replies import apologise
from bot.settings import BotSettings
from index.service import Newsdesk

log = logging.getLogger("newsdesk.bot")
# A text bot: discord.py's warnings that voice needs PyNaCl and davey say nothing to its operator.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


class NewsdeskBot(commands.AutoShardedBot):
    """Holds the core facade (`desk`, which the feedback buttons reach through the client).

    Sharded always: with no shard settings discord.py asks Discord for its recommended count (one shard
    for a small bot), and several processes each run some shards over one data folder."""

    def __init__(self, desk: Newsdesk, settings: BotSettings, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = bool(settings.qa_channels)
        super().__init__(command_prefix=commands.when_mentioned, intents=intents, help_command=None,
                         allowed_mentions=discord.AllowedMentions.none(), shard_count=settings.shard_count,
                         shard_ids=settings.shard_ids, **options)  # type: ignore[arg-type]  # None = all
        self.desk = desk
        self.settings = settings

    @property
    def mode(self) -> str:
        if self.intents.message_content:
            return f"Q&A channels {self.settings.qa_channels} (message-content intent) and mentions elsewhere"
        return "mentions only (no message-content intent)"

    async def setup_hook(self) -> None:
        await self.add_cog(AskCog(self, self.desk, self.settings))
        await self.add_cog(SourcesCog(self.desk, self.mode))
        await self.add_cog(CoverageCog(self.desk, self.settings))
        await self.add_cog(AdminCog(self.desk, self.settings))
        self.add_dynamic_items(FeedbackButton)
        self.tree.on_error = self.on_app_command_error

    async def on_ready(self) -> None:
        """The one line an operator needs at start: who, where, over which index, answering how. Read in a
        thread: after a re-index by another process it loads the new generation (0.65 s at 97k chunks),
        which on the event loop would hold up the gateway's heartbeats."""
        status = await asyncio.to_thread(self.desk.status)
        log.info("connected as %s (%s) to %d server(s) on shard(s) %s of %s; index %s: %d articles, %d chunks; %s",
                 self.user, getattr(self.user, "id", "?"), len(self.guilds), ",".join(map(str, sorted(self.shards))),
                 self.shard_count, status.generation, status.articles, status.chunks, self.mode)

    async def on_message(self, message: discord.Message) -> None:
        """Prefix commands are not used; the ask cog listens for mentions itself."""

    async def on_app_command_error(self, interaction: discord.Interaction,
                                   error: app_commands.AppCommandError) -> None:
        await apologise(interaction, getattr(error, "original", error))
