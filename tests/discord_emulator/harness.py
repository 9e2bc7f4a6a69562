"""Glue for tests: URL seams of discord.py, a running client, and loopback-only networking."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any, AsyncIterator, Iterator, Optional, TypeVar

import discord
import pytest_socket
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from .server import Emulator, start_emulator

ClientT = TypeVar('ClientT', bound=discord.Client)


@contextlib.contextmanager
def patched_discord(emu: Emulator) -> Iterator[None]:
    """Point discord.py's REST base and default gateway at ``emu``; restore them afterwards."""
    with discord_at(emu.api_base, emu.gateway_url):
        yield


@contextlib.contextmanager
def discord_at(api_base: str, gateway_url: str) -> Iterator[None]:
    """Point discord.py at an emulator by its URLs (``emu.api_base``, ``emu.gateway_url``), as a bot in
    another process needs; restore them afterwards.

    These two class attributes are the only seams: Route reads BASE when each request is built,
    and DiscordWebSocket.from_client reads DEFAULT_GATEWAY on (re)connect.
    """
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Refuse any socket connect() that is not to 127.0.0.1 (pytest-socket), restoring the previous guard."""
    previous = socket.socket.connect
    pytest_socket.socket_allow_hosts(['127.0.0.1'], allow_unix_socket=True)
    try:
        yield
    finally:
        socket.socket.connect = previous  # type: ignore[method-assign]


@contextlib.asynccontextmanager
async def emulator(**config: Any) -> AsyncIterator[Emulator]:
    """``async with emulator(interaction_deadline=0.5) as emu:`` started, patched in, closed after."""
    emu = await start_emulator(**config)
    try:
        with patched_discord(emu):
            yield emu
    finally:
        await emu.close()


@contextlib.asynccontextmanager
async def running_client(
    emu: Emulator, client: ClientT, *, token: Optional[str] = None, timeout: float = 10.0
) -> AsyncIterator[ClientT]:
    """Log ``client`` in against ``emu`` (with the emulator's token unless given), run it until on_ready,
    yield it, then close it.

    Login errors (e.g. LoginFailure) and gateway failures surface here instead of hanging.
    """
    with patched_discord(emu):
        await client.login(emu.config.token if token is None else token)
        runner = asyncio.create_task(client.connect(reconnect=True))
        ready = asyncio.create_task(client.wait_until_ready())
        try:
            done, _ = await asyncio.wait({runner, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if runner in done:
                runner.result()
                raise RuntimeError('client.connect() returned before READY')
            if ready not in done:
                raise TimeoutError(f'client not ready after {timeout}s')
            yield client
        finally:
            ready.cancel()
            await client.close()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
