"""More than one bot process: each runs some of the gateway shards over one shared data folder, answers the
servers Discord routes to its shards, and serves a re-index made anywhere at its next question.

The bots here are `newsdesk run` in OS processes of their own (tests/bot_process.py), as in production,
against one Discord emulator in the test's process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from discord_emulator import emulator, loopback_only
from discord_emulator.gateway import shard_of
from discord_emulator.server import Emulator, InteractionHandle
from pydantic import SecretStr

from bot import cli
from bot.app import NewsdeskBot
from bot.settings import BotSettings
from index.errors import ConfigError
from index.service import Newsdesk

TOKEN = "NzkyNzE1NDU0MTk2MDg4ODQy.X-hvzA.Ovy4MCQywSkoMRRclStW4xAYK7I"
LAUNCHER = Path(__file__).resolve().parent / "bot_process.py"
G8 = "Why was Russia expelled from the G8?"
CRIMEA = "Russia was expelled in 2014 from what was known as the Group of 8"
FERRY = ("---\ntitle: Harwick ferry timetable\noutlet: Coastal Times\npublished: 2022-05-09\n---\n"
         "From the third of June the Harwick ferry will sail every forty minutes, the port authority said.\n"
         "The first crossing leaves at six in the morning.\n")
LIGHTHOUSE = ("---\ntitle: Skerry Point keeper retires\noutlet: Coastal Times\npublished: 2022-05-06\n---\n"
              "Margaret Olsen, the last keeper of the Skerry Point lighthouse, retired on Friday after 41 years "
              "of tending its lamp.\nThe lamp will be run automatically from now on.\n")


@pytest.fixture(autouse=True)
def _loopback() -> Iterator[None]:
    """Any connection off 127.0.0.1 fails the test (the bot processes guard themselves the same way)."""
    with loopback_only():
        yield


def run(scenario: Callable[[], Awaitable[None]], timeout: float) -> None:
    asyncio.run(asyncio.wait_for(scenario(), timeout))


def environment(desk: Newsdesk, models: Path, **settings: str) -> dict[str, str]:
    """What a deploy file gives each process: the shared folders, the token, its shards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    s = desk.settings
    return {**env, "NEWSDESK_DATA_DIR": str(s.data_dir), "NEWSDESK_SEEDS_DIR": str(s.seeds_dir),
            "NEWSDESK_ARTICLES_DIR": str(s.articles_path), "NEWSDESK_MODELS_DIR": str(models),
            "NEWSDESK_DISCORD_TOKEN": TOKEN, "NEWSDESK_DISCORD_COOLDOWN_SECONDS": "0", **settings}


async def newsdesk(emu: Emulator, env: dict[str, str], log: Path, *command: str) -> asyncio.subprocess.Process:
    """`newsdesk COMMAND` in its own process, pointed at the emulator; its log (stderr) goes to `log`."""
    with log.open("wb") as stderr:
        return await asyncio.create_subprocess_exec(sys.executable, str(LAUNCHER), emu.api_base, emu.gateway_url,
                                                    *command, env=env, cwd=log.parent,
                                                    stdout=asyncio.subprocess.DEVNULL, stderr=stderr)


async def finished(process: asyncio.subprocess.Process, log: Path, timeout: float = 120) -> None:
    assert await asyncio.wait_for(process.wait(), timeout) == 0, log.read_text()


@contextlib.asynccontextmanager
async def bots(emu: Emulator, folder: Path, shards: dict[int, dict[str, str]]) -> AsyncIterator[dict[int, Path]]:
    """One `newsdesk run` per entry, each started with its environment; yields their logs once every one has
    logged that it is connected, and stops them (SIGTERM, as a service manager does) after."""
    logs = {key: folder / f"bot-{key}.log" for key in shards}
    processes = [await newsdesk(emu, env, logs[key], "run") for key, env in shards.items()]
    try:
        deadline = time.monotonic() + 180
        while not all("connected as" in log.read_text() for log in logs.values()):
            for process, log in zip(processes, logs.values()):
                assert process.returncode is None, log.read_text()
            assert time.monotonic() < deadline, [log.read_text() for log in logs.values()]
            await asyncio.sleep(0.2)
        yield logs
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            await asyncio.wait_for(process.wait(), 30)


def receivers(emu: Emulator, handle: InteractionHandle) -> list[tuple[int, int]]:
    """The shards of the gateway sessions the interaction was delivered to."""
    return [session.shard for session in emu.gateway.sessions.values()
            if any(f["t"] == "INTERACTION_CREATE" and f["d"]["id"] == str(handle.id) for f in session.sent)]


async def ask(emu: Emulator, question: str, channel: int) -> tuple[str, list[tuple[int, int]]]:
    """Alice's /ask in `channel`: the quotes of the answer, and the shards that were sent the question."""
    handle = await emu.send_command("ask", {"question": question}, channel_id=channel)
    answer = (await handle.wait_followups(1, timeout=60))[0]
    return "\n".join(embed["description"] for embed in answer["embeds"]), receivers(emu, handle)


def test_two_processes_on_two_shards_answer_their_own_servers_and_see_each_others_reindex(
        make_desk: Callable[..., Newsdesk], models_dir: Path, tmp_path: Path) -> None:
    desk = make_desk()
    desk.reindex()
    shared = {"NEWSDESK_SHARD_COUNT": "2"}

    async def scenario() -> None:
        async with emulator(token=TOKEN) as emu:
            second, second_channel = emu.add_guild_on_shard(1 - shard_of(emu.guild_id, 2), 2)
            channels = {shard_of(emu.guild_id, 2): emu.channel_id, shard_of(second, 2): second_channel}
            await finished(await newsdesk(emu, environment(desk, models_dir), tmp_path / "sync.log", "sync"),
                           tmp_path / "sync.log")
            processes = {shard: environment(desk, models_dir, NEWSDESK_SHARD_IDS=str(shard), **shared)
                         for shard in (0, 1)}
            async with bots(emu, tmp_path, processes) as logs:
                for shard, channel in channels.items():
                    quotes, sent_to = await ask(emu, G8, channel)
                    assert CRIMEA in quotes and sent_to == [(shard, 2)]

                (desk.settings.articles_path / "ferry.md").write_text(FERRY, encoding="utf-8")
                reindex = await emu.send_command("reindex", user=emu.owner, channel_id=channels[0])
                await reindex
                await reindex.wait_original(lambda m: m["content"].startswith("Re-index finished"), timeout=120)
                quotes, sent_to = await ask(emu, "How often will the Harwick ferry sail?", channels[1])
                assert "the Harwick ferry will sail every forty minutes" in quotes and sent_to == [(1, 2)]

                (desk.settings.articles_path / "lighthouse.md").write_text(LIGHTHOUSE, encoding="utf-8")
                await finished(await newsdesk(emu, environment(desk, models_dir), tmp_path / "index.log", "index"),
                               tmp_path / "index.log")
                for shard, channel in channels.items():
                    quotes, sent_to = await ask(emu, "Who kept the Skerry Point lighthouse?", channel)
                    assert "Margaret Olsen, the last keeper" in quotes and sent_to == [(shard, 2)]
            started = {shard: log.read_text() for shard, log in logs.items()}
            assert sorted(i["shard"] for i in emu.identifies) == [[0, 2], [1, 2]]
            for shard in (0, 1):
                assert f"to 1 server(s) on shard(s) {shard} of 2" in started[shard]
            assert emu.violations == [] and emu.pings == []

    run(scenario, 600)


def test_too_few_shards_for_the_servers_is_one_line_naming_the_setting(seeds_desk: Newsdesk) -> None:
    """Discord closes an IDENTIFY whose shard would hold too many servers (4011); `newsdesk run` says what to set."""

    def serve(**settings: Any) -> None:
        cli.serve(NewsdeskBot(seeds_desk, BotSettings(token=SecretStr(TOKEN), **settings)), TOKEN)

    async def scenario() -> None:
        async with emulator(token=TOKEN, max_guilds_per_shard=1) as emu:
            emu.add_guild_on_shard(0, 1)
            with pytest.raises(ConfigError, match=r"closed shard 0 with 4011: too many servers for "
                                                  r"NEWSDESK_SHARD_COUNT; raise it, or unset it"):
                await asyncio.to_thread(serve, shard_count=1)

    run(scenario, 60)
