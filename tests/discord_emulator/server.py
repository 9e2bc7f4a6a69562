"""The Emulator: one aiohttp server on 127.0.0.1 serving Discord's REST API, gateway and attachment CDN.

Tests drive it from the "user" side (send_user_message, send_command, ...) and assert on what the
bot did through the audit state (calls, violations, pings, sent, interactions, heartbeats).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from typing import Any, Callable, Optional, TypeVar

from aiohttp import web

from . import payloads as p
from .faults import Faults
from .gateway import Gateway
from .interactions import InteractionHandle, InteractionRejected, Interactions
from .messages import Messages
from .rest import RestApi
from .state import EmulatorConfig, EmulatorState, Heartbeat, Ping, RestCall, Violation

# InteractionHandle and InteractionRejected live in interactions.py; tests import them from here.
__all__ = ['Emulator', 'InteractionHandle', 'InteractionRejected', 'start_emulator']

T = TypeVar('T')


class Emulator(Interactions, Messages, Faults):
    """Discord REST + gateway emulator bound to 127.0.0.1 on a free port.

    The mixins hold the world, permissions, messages, interactions and faults; this class owns the
    server, the audit views and the waits, so tests reach everything as ``emu.<method>``.
    """

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.state = EmulatorState()
        self.snowflakes = p.SnowflakeGenerator()
        self.gateway = Gateway(self)
        self.rest = RestApi(self)
        self.port = 0
        self._cond = asyncio.Condition()
        self._runner: Optional[web.AppRunner] = None
        self._build_world()

    # --------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and start serving."""
        app = web.Application(middlewares=[self.rest.middleware], client_max_size=64 * 1024 * 1024)
        app.add_routes(self.rest.routes())
        app.router.add_get('/attachments/{id}/{filename}', self._serve_attachment)
        app.router.add_get('/', self.gateway.handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(('127.0.0.1', 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        """Close sockets and stop the server."""
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def http_url(self) -> str:
        """Base URL of this server; the CDN serves attachments below it."""
        return f'http://127.0.0.1:{self.port}'

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return f'{self.http_url}/api/v10'

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` and READY's resume_gateway_url."""
        return f'ws://127.0.0.1:{self.port}/'

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        """The CDN: bytes stored by add_attachment or uploaded by the bot."""
        stored = self.state.files.get(int(request.match_info['id']))
        if stored is None or stored.filename != request.match_info['filename']:
            return web.Response(status=404, text='Not Found')
        return web.Response(body=stored.data, content_type=stored.content_type or 'application/octet-stream')

    # ------------------------------------------------------------------ audit

    @property
    def violations(self) -> list[Violation]:
        return self.state.violations

    @property
    def pings(self) -> list[Ping]:
        return self.state.pings

    @property
    def calls(self) -> list[RestCall]:
        return self.state.calls

    @property
    def identifies(self) -> list[dict[str, Any]]:
        return self.state.identifies

    @property
    def heartbeats(self) -> list[Heartbeat]:
        return self.state.heartbeats

    @property
    def messages(self) -> dict[int, dict[str, Any]]:
        return self.state.messages

    def record_violation(self, rule: str, method: str, path: str, status: int, body: dict[str, Any]) -> None:
        """Remember that the bot broke a Discord rule (tests usually end with ``assert emu.violations == []``)."""
        self.state.violations.append(Violation(rule, method, path, status, body))

    async def notify(self) -> None:
        """Wake every waiter so it re-checks its condition."""
        async with self._cond:
            self._cond.notify_all()

    async def wait_until(
        self, predicate: Callable[[], Optional[T]], timeout: float = 10.0, what: str = 'condition'
    ) -> T:
        """Return the first truthy value of ``predicate``, re-evaluated after every emulator state change.

        It is also re-checked every 50 ms so predicates over the bot's own state work too.
        """

        async def poll() -> T:
            async with self._cond:
                while True:
                    result = predicate()
                    if result:
                        return result
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._cond.wait(), 0.05)

        try:
            return await asyncio.wait_for(poll(), timeout)
        except asyncio.TimeoutError:
            recent = [(c.method, c.path, c.status) for c in self.state.calls[-8:]]
            raise TimeoutError(f'timed out after {timeout}s waiting for {what}; last REST calls: {recent}') from None

    async def wait_for_call(
        self, method: str, path_regex: str, predicate: Optional[Callable[[RestCall], bool]] = None, timeout: float = 10.0
    ) -> RestCall:
        """The oldest completed, not yet claimed RestCall whose path fully matches ``path_regex``; claims it.

        Paths are below /api/v10 (e.g. r'/channels/\\d+/messages'). Claiming makes repeated waits
        return successive calls instead of the same one.
        """
        pattern = re.compile(path_regex)

        def find() -> Optional[RestCall]:
            for call in self.state.calls:
                if (
                    not call.claimed
                    and call.status
                    and call.method == method.upper()
                    and pattern.fullmatch(call.path)
                    and (predicate is None or predicate(call))
                ):
                    call.claimed = True
                    return call
            return None

        return await self.wait_until(find, timeout, f'{method} {path_regex}')

    async def wait_for_message(
        self,
        channel_id: Optional[int] = None,
        predicate: Optional[Callable[[dict[str, Any]], bool]] = None,
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """The next (unclaimed) message the bot created, optionally in ``channel_id``; claims it.

        A deferred 'thinking' message only counts once it has been filled in.
        """

        def find() -> Optional[dict[str, Any]]:
            for sent in self.state.sent:
                msg = self.state.messages.get(sent.message_id)
                if (
                    sent.claimed
                    or sent.source in ('edit', 'deferred_fill')
                    or msg is None
                    or msg['flags'] & p.FLAG_LOADING
                    or (channel_id is not None and sent.channel_id != channel_id)
                    or (predicate is not None and not predicate(msg))
                ):
                    continue
                sent.claimed = True
                return msg
            return None

        return await self.wait_until(find, timeout, f'bot message in {channel_id}')

    async def wait_for_identify(self, timeout: float = 10.0) -> dict[str, Any]:
        """The first IDENTIFY payload received."""
        return await self.wait_until(lambda: self.state.identifies and self.state.identifies[0], timeout, 'IDENTIFY')

    # --------------------------------------------------------------- gateway

    @property
    def connected(self) -> bool:
        """Whether at least one identified session has a live socket."""
        return bool(self.gateway.connected)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an arbitrary gateway event to every session allowed to see it."""
        await self.gateway.dispatch(event, data)

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the bot's socket with a resumable code; events dispatched meanwhile are replayed on RESUME."""
        await self.gateway.drop(code)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT, which makes discord.py close and RESUME."""
        await self.gateway.send_op(7, None)


async def start_emulator(**config: Any) -> Emulator:
    """Create and start an emulator; ``config`` are EmulatorConfig fields. Call ``await emu.close()`` after."""
    emu = Emulator(EmulatorConfig(**config))
    await emu.start()
    return emu

