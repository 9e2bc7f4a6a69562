"""Plain dataclasses holding everything the emulator knows, so tests can assert on it directly."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from . import payloads


@dataclass
class EmulatorConfig:
    """Knobs a test may turn; defaults are Discord's production values."""

    token: str = 'emulator-bot-token'
    bot_name: str = 'Newsdesk'
    guild_name: str = 'Newsdesk Test Guild'
    heartbeat_interval_ms: int = 41250
    # A heartbeat arriving later than interval * tolerance after the previous one is a violation.
    heartbeat_tolerance: float = 1.5
    interaction_deadline: float = 3.0
    interaction_token_ttl: float = 15 * 60.0
    # Privileged intents switched on in the developer portal; identifying with others closes 4014.
    privileged_intents: int = payloads.PRIVILEGED_INTENTS
    attachment_size_limit: int = 10 * 1024 * 1024
    # GET /gateway/bot recommends one shard per this many guilds; a shard holding more than
    # max_guilds_per_shard is refused at IDENTIFY with 4011 (Discord: about 1,000 and 2,500).
    guilds_per_shard: int = 1000
    max_guilds_per_shard: int = 2500


@dataclass
class UploadedFile:
    """One ``files[n]`` part of a multipart request."""

    field: str
    filename: str
    data: bytes
    content_type: Optional[str]


@dataclass
class RestCall:
    """One HTTP request below /api/v10, logged before it is handled and completed with its status."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    at: float
    route: Optional[str] = None
    status: int = 0
    response: Any = None
    injected: bool = False
    claimed: bool = False


@dataclass
class Violation:
    """A request Discord would have rejected because the bot broke a rule."""

    rule: str
    method: str
    path: str
    status: int
    body: dict[str, Any]


@dataclass
class Ping:
    """A mention that would reach someone. ``notified`` is False for edits, which Discord never pushes."""

    kind: str
    target_id: Optional[int]
    message_id: int
    channel_id: int
    source: str
    notified: bool


@dataclass
class SentMessage:
    """A message the bot created or edited, with the allowed_mentions it was sent with (None = field absent)."""

    source: str
    message_id: int
    channel_id: int
    allowed_mentions: Optional[dict[str, Any]]
    pings: list[Ping]
    claimed: bool = False


@dataclass
class Heartbeat:
    """A HEARTBEAT (op 1) arrival; ``gap`` is seconds since the previous beat (or HELLO) on that socket."""

    at: float
    session_id: Optional[str]
    sequence: Optional[int]
    last_sent_sequence: int
    gap: float


@dataclass
class CallbackRecord:
    """One POST to /interactions/{id}/{token}/callback, accepted or not."""

    type: int
    data: Optional[dict[str, Any]]
    at: float
    status: int


@dataclass
class InteractionRecord:
    """An interaction the emulator delivered and everything the bot did with it."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    created_at: float
    channel_id: int
    guild_id: Optional[int]
    user_id: int
    source_message_id: Optional[int] = None
    callbacks: list[CallbackRecord] = field(default_factory=list)
    ack: Optional[CallbackRecord] = None
    original_message_id: Optional[int] = None
    followup_ids: list[int] = field(default_factory=list)


@dataclass
class GuildState:
    """A guild's own data; its channels live in EmulatorState.channels."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, dict[str, Any]]
    members: dict[int, dict[str, Any]]
    joined_at: str
    locale: str = 'en-US'


@dataclass
class Fault:
    """An injected failure consumed by the next ``remaining`` matching requests."""

    method: str
    pattern: re.Pattern[str]
    status: int
    retry_after: float
    remaining: int
    scope: str


@dataclass
class StoredFile:
    """Bytes served from /attachments/{id}/{filename}."""

    filename: str
    data: bytes
    content_type: Optional[str]


@dataclass
class EmulatorState:
    """All mutable world and audit state."""

    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    guilds: dict[int, GuildState] = field(default_factory=dict)
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    files: dict[int, StoredFile] = field(default_factory=dict)
    interactions: dict[int, InteractionRecord] = field(default_factory=dict)
    commands: dict[Optional[int], dict[int, dict[str, Any]]] = field(default_factory=dict)
    calls: list[RestCall] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    pings: list[Ping] = field(default_factory=list)
    sent: list[SentMessage] = field(default_factory=list)
    identifies: list[dict[str, Any]] = field(default_factory=list)
    resumes: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: list[Heartbeat] = field(default_factory=list)
    gateway_queries: list[dict[str, str]] = field(default_factory=list)
    presences: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    @property
    def threads(self) -> dict[int, dict[str, Any]]:
        """Thread channels, a view over ``channels``."""
        return {cid: c for cid, c in self.channels.items() if c['type'] in payloads.THREAD_TYPES}
