"""`newsdesk run` and `newsdesk sync`: registered into the core's command line through the
`newsdesk.commands` entry point (the core never imports Discord)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import aiohttp
import discord
import typer

from bot.app import NewsdeskBot
from bot.settings import SHARD_COUNT, SHARD_IDS, load_bot_settings
from index.errors import ConfigError
from index.service import Newsdesk

log = logging.getLogger("newsdesk.bot")
# Gateway close codes for shard settings Discord will not serve ("Gateway Close Event Codes").
SHARD_REFUSALS = {
    4010: f"an invalid shard; {SHARD_IDS} must be below {SHARD_COUNT}, and the count the same in every process",
    4011: f"too many servers for {SHARD_COUNT}; raise it, or unset it and {SHARD_IDS} to use the count Discord "
          "recommends",
}


def register_commands(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(sync)


def run() -> None:
    """Start the Discord bot (loads the index and warms the model first)."""
    settings = load_bot_settings(Newsdesk.settings_file())
    token = settings.secret()
    desk = Newsdesk.open()
    desk.warm_up()
    logging.getLogger("newsdesk").setLevel(logging.INFO)
    serve(NewsdeskBot(desk, settings), token)


def serve(bot: NewsdeskBot, token: str) -> None:
    """Run until stopped; what Discord refuses at connect time becomes one line saying what to change."""
    try:
        bot.run(token, log_handler=None)
    except discord.LoginFailure as exc:
        raise ConfigError("Discord refused the token; check NEWSDESK_DISCORD_TOKEN") from exc
    except aiohttp.ClientConnectionError as exc:
        raise ConfigError(f"cannot reach Discord (network): {exc}") from exc
    except discord.ConnectionClosed as exc:
        if exc.code not in SHARD_REFUSALS:
            raise
        raise ConfigError(f"Discord closed shard {exc.shard_id} with {exc.code}: {SHARD_REFUSALS[exc.code]}") from exc
    except discord.PrivilegedIntentsRequired as exc:
        raise ConfigError("Q&A channels need the Message Content intent: switch it on in the Discord Developer "
                          "Portal (Bot > Privileged Gateway Intents), or unset NEWSDESK_DISCORD_QA_CHANNELS") from exc


def sync(guild: Annotated[int | None, typer.Option(help="Sync to one server (instant) instead of globally.")] = None
         ) -> None:
    """Register the slash commands with Discord (run after changing commands)."""
    settings = load_bot_settings(Newsdesk.settings_file())
    token = settings.secret()
    desk = Newsdesk.open()

    async def go() -> int:
        bot = NewsdeskBot(desk, settings)
        async with bot:
            await bot.login(token)
            target = discord.Object(id=guild) if guild else None
            if target:
                bot.tree.copy_global_to(guild=target)
            return len(await bot.tree.sync(guild=target))

    count = asyncio.run(go())
    typer.echo(f"synced {count} commands {'to guild ' + str(guild) if guild else 'globally'}")
