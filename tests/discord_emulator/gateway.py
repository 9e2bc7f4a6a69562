"""Gateway v10 websocket: HELLO/IDENTIFY/READY/RESUME, heartbeats, intent-filtered dispatches, shards.

A session identified with ``shard: [id, count]`` receives the events of the guilds with
``(guild_id >> 22) % count == id`` (and DMs on shard 0), as Discord routes them.

Frames are always sent as uncompressed JSON text. discord.py asks for ``compress=zlib-stream`` (or
zstd) but only runs its decompressor on binary frames, so text frames are accepted unchanged.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from aiohttp import WSMsgType, web

from . import payloads as p
from .state import Heartbeat

if TYPE_CHECKING:
    from .server import Emulator

# Close codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-close-event-codes).
CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_INVALID_SHARD = 4010
CLOSE_SHARDING_REQUIRED = 4011
CLOSE_INVALID_API_VERSION = 4012
CLOSE_INVALID_INTENTS = 4013
CLOSE_DISALLOWED_INTENTS = 4014

SessionFilter = Callable[['GatewaySession'], Optional[dict[str, Any]]]


@dataclass
class GatewaySession:
    """A resumable gateway session: every dispatch it was sent, kept for replay on RESUME."""

    session_id: str
    identify: dict[str, Any]
    intents: int
    shard: tuple[int, int] = (0, 1)
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    ws: Optional[web.WebSocketResponse] = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def has(self, intent: int) -> bool:
        return bool(self.intents & intent)

    def owns(self, guild_id: Optional[int]) -> bool:
        """Whether this session's shard receives the guild's events (DMs go to shard 0)."""
        shard_id, count = self.shard
        return shard_id == 0 if guild_id is None else shard_of(guild_id, count) == shard_id


def shard_of(guild_id: int, count: int) -> int:
    """Discord's sharding formula."""
    return (guild_id >> 22) % count


def event_guild(event: str, data: dict[str, Any]) -> Optional[int]:
    """The guild a dispatch is about (None for DMs and user-level events)."""
    if 'guild_id' in data:
        return int(data['guild_id']) if data['guild_id'] is not None else None
    if event in ('GUILD_CREATE', 'GUILD_UPDATE', 'GUILD_DELETE'):
        return int(data['id'])
    return None


def valid_shard(shard: Any) -> Optional[tuple[int, int]]:
    """``[id, count]`` with 0 <= id < count, else None (Discord closes such an IDENTIFY with 4010)."""
    if not isinstance(shard, list) or len(shard) != 2 or not all(type(n) is int for n in shard):
        return None
    shard_id, count = shard
    return (shard_id, count) if 0 <= shard_id < count else None


def event_intent(event: str, data: dict[str, Any]) -> int:
    """The intent a dispatch needs to be delivered (0 = always delivered)."""
    in_guild = 'guild_id' in data
    if event.startswith('MESSAGE_REACTION_'):
        return p.INTENT_GUILD_MESSAGE_REACTIONS if in_guild else p.INTENT_DIRECT_MESSAGE_REACTIONS
    if event.startswith('MESSAGE_'):
        return p.INTENT_GUILD_MESSAGES if in_guild else p.INTENT_DIRECT_MESSAGES
    if event.startswith('GUILD_MEMBER'):
        return p.INTENT_GUILD_MEMBERS
    if event.startswith(('GUILD_', 'CHANNEL_', 'THREAD_')):
        return p.INTENT_GUILDS
    return 0


class Gateway:
    """The websocket endpoint and the sessions it serves."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.sessions: dict[str, GatewaySession] = {}
        self._sockets: set[web.WebSocketResponse] = set()

    @property
    def connected(self) -> list[GatewaySession]:
        """Sessions with a live socket."""
        return [s for s in self.sessions.values() if s.ws is not None and not s.ws.closed]

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one websocket connection until either side closes it."""
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        self.emu.state.gateway_queries.append(dict(request.query))
        session: Optional[GatewaySession] = None
        try:
            if request.query.get('v') != '10':
                await ws.close(code=CLOSE_INVALID_API_VERSION, message=b'Invalid API version')
                return ws
            if request.query.get('encoding', 'json') != 'json':
                await ws.close(code=CLOSE_DECODE_ERROR, message=b'Only JSON encoding is emulated')
                return ws
            interval_ms = self.emu.config.heartbeat_interval_ms
            await ws.send_str(json.dumps({'op': 10, 'd': {'heartbeat_interval': interval_ms}, 's': None, 't': None}))
            last_beat = time.monotonic()
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    await ws.close(code=CLOSE_DECODE_ERROR, message=b'Decode error')
                    break
                frame = json.loads(msg.data)
                op, data = frame.get('op'), frame.get('d')
                if op == 1:
                    now = time.monotonic()
                    await self._heartbeat(ws, session, data, now - last_beat, interval_ms)
                    last_beat = now
                elif op == 2:
                    if session is not None:
                        await ws.close(code=CLOSE_ALREADY_AUTHENTICATED, message=b'Already authenticated')
                        break
                    session = await self._identify(ws, data)
                elif op == 6:
                    session = await self._resume(ws, data)
                elif op == 3:
                    self.emu.state.presences.append(data)
                elif op == 8:
                    await self._request_members(session, data)
                elif op == 4:
                    continue
                else:
                    await ws.close(code=CLOSE_UNKNOWN_OPCODE, message=b'Unknown opcode')
                    break
                await self.emu.notify()
        finally:
            self._sockets.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
            await self.emu.notify()
        return ws

    async def _heartbeat(
        self,
        ws: web.WebSocketResponse,
        session: Optional[GatewaySession],
        sequence: Optional[int],
        gap: float,
        interval_ms: int,
    ) -> None:
        beat = Heartbeat(
            at=time.monotonic(),
            session_id=session.session_id if session else None,
            sequence=sequence,
            last_sent_sequence=session.seq if session else 0,
            gap=gap,
        )
        self.emu.state.heartbeats.append(beat)
        if gap > interval_ms / 1000 * self.emu.config.heartbeat_tolerance:
            self.emu.record_violation('heartbeat_late', 'WS', '/', 0, {'gap': gap, 'interval_ms': interval_ms})
        await ws.send_str(json.dumps({'op': 11, 'd': None, 's': None, 't': None}))

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> Optional[GatewaySession]:
        self.emu.state.identifies.append(data)
        if data.get('token') != self.emu.config.token:
            await ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b'Authentication failed.')
            return None
        intents = data.get('intents')
        if not isinstance(intents, int) or intents < 0 or intents >= 1 << 26:
            await ws.close(code=CLOSE_INVALID_INTENTS, message=b'Invalid intent(s).')
            return None
        if intents & p.PRIVILEGED_INTENTS & ~self.emu.config.privileged_intents:
            await ws.close(code=CLOSE_DISALLOWED_INTENTS, message=b'Disallowed intent(s).')
            return None
        shard = (0, 1) if data.get('shard') is None else valid_shard(data['shard'])
        if shard is None:
            await ws.close(code=CLOSE_INVALID_SHARD, message=b'Invalid shard.')
            return None
        guild_ids = [gid for gid in self.emu.state.guilds if shard_of(gid, shard[1]) == shard[0]]
        if len(guild_ids) > self.emu.config.max_guilds_per_shard:
            await ws.close(code=CLOSE_SHARDING_REQUIRED, message=b'Sharding required.')
            return None
        session = GatewaySession(session_id=secrets.token_hex(16), identify=data, intents=intents, shard=shard, ws=ws)
        self.sessions[session.session_id] = session
        ready: dict[str, Any] = {
            'v': 10,
            'user': {**self.emu.bot_user, 'verified': True, 'mfa_enabled': False, 'email': None},
            'guilds': [{'id': str(gid), 'unavailable': True} for gid in guild_ids],
            'session_id': session.session_id,
            'session_type': 'normal',
            'resume_gateway_url': self.emu.gateway_url,
            'application': {'id': str(self.emu.application_id), 'flags': self.emu.application_flags},
            'private_channels': [],
            'relationships': [],
            'presences': [],
            'user_settings': {},
            'geo_ordered_rtc_regions': ['emulator'],
            'guild_join_requests': [],
            'auth': {},
            '_trace': ['["discord-emulator",{"micros":0}]'],
        }
        if data.get('shard') is not None:
            ready['shard'] = list(shard)
        await self._send_dispatch(session, 'READY', ready)
        if session.has(p.INTENT_GUILDS):
            for gid in guild_ids:
                await self._send_dispatch(session, 'GUILD_CREATE', self.emu.guild_create_payload(gid, session))
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> Optional[GatewaySession]:
        self.emu.state.resumes.append(data)
        session = self.sessions.get(data.get('session_id', ''))
        if data.get('token') != self.emu.config.token:
            await ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b'Authentication failed.')
            return None
        if session is None:
            await ws.send_str(json.dumps({'op': 9, 'd': False, 's': None, 't': None}))
            return None
        async with session.lock:
            if session.ws is not None and not session.ws.closed:
                await session.ws.close(code=4000, message=b'Session resumed elsewhere')
            session.ws = ws
            last = data.get('seq') or 0
            for frame in session.sent:
                if frame['s'] > last:
                    await ws.send_str(json.dumps(frame))
        await self._send_dispatch(session, 'RESUMED', {'_trace': ['["discord-emulator",{"micros":0}]']})
        return session

    async def _request_members(self, session: Optional[GatewaySession], data: dict[str, Any]) -> None:
        if session is None:
            return
        guild = self.emu.state.guilds.get(int(data['guild_id']))
        if guild is None:
            return
        wanted = {int(u) for u in data.get('user_ids') or []}
        query = (data.get('query') or '').lower()
        members = [
            m
            for uid, m in guild.members.items()
            if (uid in wanted if wanted else m['user']['username'].lower().startswith(query))
        ]
        limit = data.get('limit') or len(members)
        chunk: dict[str, Any] = {
            'guild_id': str(guild.id),
            'members': members[:limit],
            'chunk_index': 0,
            'chunk_count': 1,
            'not_found': [str(u) for u in wanted - set(guild.members)],
        }
        if data.get('nonce'):
            chunk['nonce'] = data['nonce']
        await self._send_dispatch(session, 'GUILD_MEMBERS_CHUNK', chunk)

    async def _send_dispatch(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        async with session.lock:
            session.seq += 1
            frame = {'op': 0, 't': event, 's': session.seq, 'd': data}
            session.sent.append(frame)
            if session.ws is not None and not session.ws.closed:
                try:
                    await session.ws.send_str(json.dumps(frame))
                except ConnectionError:
                    pass  # kept in session.sent; delivered on RESUME like Discord does

    async def dispatch(self, event: str, data: dict[str, Any], per_session: Optional[SessionFilter] = None) -> None:
        """Send a dispatch to every identified session whose intents and shard allow it (buffered while
        disconnected).

        ``per_session`` may rewrite the payload for one session or return None to skip it.
        """
        needed = event_intent(event, data)
        guild_id = event_guild(event, data)
        for session in list(self.sessions.values()):
            if (needed and not session.has(needed)) or not session.owns(guild_id):
                continue
            body = data if per_session is None else per_session(session)
            if body is not None:
                await self._send_dispatch(session, event, body)
        await self.emu.notify()

    async def send_op(self, op: int, data: Any) -> None:
        """Send a non-dispatch opcode (e.g. 7 RECONNECT) to every live socket."""
        for session in self.connected:
            assert session.ws is not None
            await session.ws.send_str(json.dumps({'op': op, 'd': data, 's': None, 't': None}))

    async def drop(self, code: int) -> None:
        """Close every live socket from the server side, keeping sessions resumable."""
        for session in self.connected:
            ws, session.ws = session.ws, None
            assert ws is not None
            await ws.close(code=code, message=b'Emulator dropped the connection')
        await self.emu.notify()

    async def close_all(self) -> None:
        """Shut every socket (used on emulator shutdown)."""
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b'Emulator shutting down')
