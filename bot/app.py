"""The Discord client: resources come in from main(), cogs load in setup_hook, commands sync only on request."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import date
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from index.config import Settings
from index.feedback import FeedbackStore
from index.models import Answer
from index.service import Newsdesk

log = logging.getLogger("newsdesk.bot")


class NewsdeskBot(commands.Bot):
    """Holds the core facade; every call into it runs in a worker thread so the gateway keeps beating."""

    def __init__(self, desk: Newsdesk, settings: Settings, feedback: FeedbackStore, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = bool(settings.discord_qa_channels)
        super().__init__(command_prefix=commands.when_mentioned, intents=intents, help_command=None,
                         allowed_mentions=discord.AllowedMentions.none(), **options)
        self.desk = desk
        self.settings = settings
        self.feedback = feedback
        self.started = time.monotonic()
        self.reindexing = asyncio.Lock()
        self._questions = asyncio.Semaphore(settings.discord_max_concurrent)

    @property
    def mode(self) -> str:
        if self.intents.message_content:
            return (f"Q&A channels {self.settings.discord_qa_channels} (message-content intent) "
                    "and mentions elsewhere")
        return "mentions only (no message-content intent)"

    async def setup_hook(self) -> None:
        from bot.cogs.admin import AdminCog
        from bot.cogs.ask import AskCog, FeedbackButton
        from bot.cogs.sources import SourcesCog

        await self.add_cog(AskCog(self))
        await self.add_cog(SourcesCog(self))
        await self.add_cog(AdminCog(self))
        self.add_dynamic_items(FeedbackButton)
        self.tree.on_error = self.on_app_command_error
        log.info("answering mode: %s", self.mode)

    async def on_ready(self) -> None:
        log.info("connected as %s (%s); %s", self.user, getattr(self.user, "id", "?"), self.mode)

    async def on_message(self, message: discord.Message) -> None:
        """Prefix commands are not used; the ask cog listens for mentions itself."""

    async def answer(self, question: str, outlets: tuple[str, ...] = (), since: date | None = None,
                     until: date | None = None) -> Answer:
        async with self._questions:
            return await asyncio.to_thread(self.desk.ask, question, outlets, since, until)

    async def on_app_command_error(self, interaction: discord.Interaction,
                                   error: app_commands.AppCommandError) -> None:
        await apologise(interaction, getattr(error, "original", error))


APOLOGY = "Sorry, something went wrong while answering. The error has been logged."


async def apologise(interaction: discord.Interaction, error: BaseException) -> None:
    """For commands and buttons alike: the user gets a short apology, the log the interaction id and
    the traceback (discord.py would log buttons' errors without an id, and leave 'interaction failed')."""
    log.error("interaction %s failed: %r", interaction.id, error, exc_info=error)
    if interaction.response.is_done():
        await interaction.followup.send(APOLOGY, ephemeral=True)
    else:
        await interaction.response.send_message(APOLOGY, ephemeral=True)
