"""Interactions: registered application commands and the slash commands, autocompletes and clicks users send.

Delivery follows Discord's rules (a command must be registered, visible and usable by the member)
and each interaction gets a record and a handle, so tests can await the bot's response to it.
"""

from __future__ import annotations

import abc
import time
from typing import TYPE_CHECKING, Any, Callable, Generator, Mapping, Optional, Sequence, TypeVar, Union

from . import payloads as p
from .permissions import Permissions
from .state import CallbackRecord, GuildState, InteractionRecord
from .world import UserRef, id_of

if TYPE_CHECKING:
    from .gateway import Gateway

T = TypeVar('T')


class InteractionRejected(Exception):
    """Discord would not have delivered this interaction (unknown command, missing permissions...)."""


class InteractionHandle:
    """What a test holds after sending an interaction: await it for the initial response."""

    def __init__(self, emu: Interactions, record: InteractionRecord) -> None:
        self.emu = emu
        self.record = record

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def token(self) -> str:
        return self.record.token

    @property
    def payload(self) -> dict[str, Any]:
        return self.record.payload

    @property
    def original(self) -> Optional[dict[str, Any]]:
        """Current state of the @original message (None until there is one)."""
        mid = self.record.original_message_id
        return None if mid is None else self.emu.state.messages.get(mid)

    @property
    def followups(self) -> list[dict[str, Any]]:
        """Followup messages in creation order (deleted ones omitted)."""
        return [self.emu.state.messages[m] for m in self.record.followup_ids if m in self.emu.state.messages]

    async def wait_response(self, timeout: float = 5.0) -> CallbackRecord:
        """The accepted initial callback (a CallbackRecord with .type and .data)."""
        return await self.emu.wait_until(lambda: self.record.ack, timeout, f'initial response to interaction {self.id}')

    def __await__(self) -> Generator[Any, None, CallbackRecord]:
        return self.wait_response().__await__()

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """At least ``count`` followup messages."""
        what = f'{count} followup(s) to {self.id}'
        await self.emu.wait_until(lambda: len(self.record.followup_ids) >= count, timeout, what)
        return self.followups

    async def wait_original(
        self, predicate: Optional[Callable[[dict[str, Any]], bool]] = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """The @original message once it is no longer 'thinking' and satisfies ``predicate``."""

        def ready() -> Optional[dict[str, Any]]:
            msg = self.original
            if msg is None or msg['flags'] & p.FLAG_LOADING or (predicate and not predicate(msg)):
                return None
            return msg

        return await self.emu.wait_until(ready, timeout, f'@original of interaction {self.id}')


class Interactions(Permissions):
    """Emulator mixin holding the command registry and delivering interactions."""

    gateway: Gateway  # set by Emulator.__init__

    @abc.abstractmethod
    async def wait_until(
        self, predicate: Callable[[], Optional[T]], timeout: float = 10.0, what: str = 'condition'
    ) -> T:
        """Wait for a state change (handles wait for the bot's responses through it)."""

    def register_commands(
        self, commands: Sequence[Mapping[str, Any]], guild_id: Optional[int] = None
    ) -> list[dict[str, Any]]:
        """Bulk-overwrite commands like PUT .../commands would (ids kept for unchanged (type, name))."""
        scope = self.state.commands.setdefault(guild_id, {})
        previous = {(c['type'], c['name']): cid for cid, c in scope.items()}
        scope.clear()
        for command in commands:
            stored = self.store_command(command, guild_id, previous.get((command.get('type', 1), command['name'])))
            scope[int(stored['id'])] = stored
        return list(scope.values())

    def store_command(
        self, command: Mapping[str, Any], guild_id: Optional[int], command_id: Optional[int] = None
    ) -> dict[str, Any]:
        """Normalise a command body into what Discord stores and returns."""
        cid = command_id or self.snowflakes.next()
        perms = command.get('default_member_permissions')
        stored: dict[str, Any] = {
            'id': str(cid),
            'application_id': str(self.application_id),
            'version': str(self.snowflakes.next()),
            'type': command.get('type', 1),
            'name': command['name'],
            'name_localizations': command.get('name_localizations'),
            'description': command.get('description', ''),
            'description_localizations': command.get('description_localizations'),
            'options': command.get('options') or [],
            'default_member_permissions': None if perms is None else str(perms),
            'dm_permission': command.get('dm_permission', True),
            'contexts': command.get('contexts'),
            'integration_types': command.get('integration_types') or [0],
            'nsfw': command.get('nsfw', False),
        }
        if guild_id is not None:
            stored['guild_id'] = str(guild_id)
        self.state.commands.setdefault(guild_id, {})[cid] = stored
        return stored

    def find_command(self, name: str, guild_id: Optional[int], command_type: int = 1) -> dict[str, Any]:
        """A registered command visible in ``guild_id`` (guild commands first, then global)."""
        for scope in (guild_id, None) if guild_id is not None else (None,):
            for command in self.state.commands.get(scope, {}).values():
                if command['name'] == name and command['type'] == command_type:
                    return command
        raise InteractionRejected(f'no registered command {name!r} (type {command_type}) visible in guild {guild_id}')

    def _check_command_access(self, command: Mapping[str, Any], channel: Mapping[str, Any], user_id: int) -> None:
        """Discord hides commands the member may not use; reject as it would never be delivered."""
        guild = self.guild_of(channel)
        if guild is None:
            contexts = command.get('contexts')
            if command.get('dm_permission') is False or (contexts is not None and 1 not in contexts):
                raise InteractionRejected(f'{command["name"]} is not available in DMs')
            return
        perms = self.channel_permissions(channel, user_id)
        if not perms & p.USE_APPLICATION_COMMANDS:
            raise InteractionRejected('member lacks USE_APPLICATION_COMMANDS in this channel')
        required = command.get('default_member_permissions')
        if required is not None and (perms & int(required)) != int(required):
            raise InteractionRejected(f'member lacks default_member_permissions {required} for {command["name"]}')

    def _resolve_option(
        self, kind: int, value: Any, guild: Optional[GuildState], resolved: dict[str, dict[str, Any]]
    ) -> Any:
        """Convert a Python value to the wire value for option type ``kind``, filling ``resolved``."""
        if kind == 3:
            return str(value)
        if kind == 4:
            return int(value)
        if kind == 5:
            return bool(value)
        if kind == 10:
            return float(value)
        if kind == 11:
            resolved.setdefault('attachments', {})[value['id']] = dict(value)
            return value['id']
        oid = id_of(value)
        if kind == 7 or (kind == 9 and oid in self.state.channels):
            channel = self.state.channels[oid]
            resolved.setdefault('channels', {})[str(oid)] = {
                **{k: channel[k] for k in ('id', 'name', 'type', 'parent_id', 'thread_metadata') if k in channel},
                'permissions': str(self.channel_permissions(channel, self.application_id)),
            }
        elif guild is not None and oid in guild.roles:
            resolved.setdefault('roles', {})[str(oid)] = guild.roles[oid]
        else:
            resolved.setdefault('users', {})[str(oid)] = self.state.users[oid]
            if guild is not None and oid in guild.members:
                member = {k: v for k, v in guild.members[oid].items() if k != 'user'}
                member['permissions'] = str(self.base_permissions(guild, oid))
                resolved.setdefault('members', {})[str(oid)] = member
        return str(oid)

    def _build_options(
        self,
        command: Mapping[str, Any],
        path: Sequence[str],
        values: Union[Mapping[str, Any], Sequence[Mapping[str, Any]]],
        guild: Optional[GuildState],
        focused: Optional[str],
        resolved: dict[str, dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Wire options for ``values`` below subcommand ``path``, rejecting what Discord's client would not send."""
        definitions = command.get('options') or []
        chain = []
        for name in path:
            sub = next((o for o in definitions if o['name'] == name and o['type'] in (1, 2)), None)
            if sub is None:
                raise InteractionRejected(f'{command["name"]} has no subcommand {name!r}')
            chain.append(sub)
            definitions = sub.get('options') or []
        if isinstance(values, Mapping):
            known = {o['name']: o for o in definitions}
            options = []
            for name, value in values.items():
                if name not in known:
                    raise InteractionRejected(f'{command["name"]} has no option {name!r}')
                kind = known[name]['type']
                wire = str(value) if name == focused else self._resolve_option(kind, value, guild, resolved)
                options.append(p.application_command_option(name, kind, wire, focused=name == focused))
            missing = [o['name'] for o in definitions if o.get('required') and o['name'] not in values]
            if missing and focused is None:
                raise InteractionRejected(f'required option(s) missing: {missing}')
        else:
            options = [dict(o) for o in values]
        for sub in reversed(chain):
            options = [p.application_command_option(sub['name'], sub['type'], options=options)]
        return options

    async def send_interaction(
        self,
        type: int,
        data: Optional[dict[str, Any]],
        *,
        user: Optional[UserRef] = None,
        channel_id: Optional[int] = None,
        message: Optional[Mapping[str, Any]] = None,
        locale: str = 'en-US',
    ) -> InteractionHandle:
        """Deliver a raw INTERACTION_CREATE (``data`` as Discord would send it) and start its 3 s clock."""
        uid = id_of(user if user is not None else self.alice)
        cid = channel_id or (int(message['channel_id']) if message else self.channel_id)
        channel = self.state.channels[cid]
        guild = self.guild_of(channel)
        member_data = None
        if guild is not None:
            member_data = dict(guild.members[uid])
            member_data['permissions'] = str(self.channel_permissions(channel, uid))
        iid = self.snowflakes.next()
        partial_channel = {k: v for k, v in channel.items() if k not in ('last_message_id', 'member')}
        partial_channel['permissions'] = str(self.channel_permissions(channel, self.application_id))
        payload = p.interaction(
            iid,
            type,
            p.interaction_token(),
            self.application_id,
            data=data,
            channel=partial_channel,
            guild_id=guild.id if guild else None,
            member_data=member_data,
            user_data=self.state.users[uid],
            app_permissions=self.channel_permissions(channel, self.application_id),
            locale=locale,
            guild_locale=guild.locale if guild else None,
            message_data=dict(message) if message else None,
            attachment_size_limit=self.config.attachment_size_limit,
        )
        record = InteractionRecord(
            id=iid,
            token=payload['token'],
            type=type,
            payload=payload,
            created_at=time.monotonic(),
            channel_id=cid,
            guild_id=guild.id if guild else None,
            user_id=uid,
            source_message_id=int(message['id']) if message else None,
        )
        self.state.interactions[iid] = record
        await self.gateway.dispatch('INTERACTION_CREATE', payload)
        return InteractionHandle(self, record)

    async def send_command(
        self,
        name: str,
        options: Union[Mapping[str, Any], Sequence[Mapping[str, Any]], None] = None,
        *,
        user: Optional[UserRef] = None,
        channel_id: Optional[int] = None,
        bypass_permissions: bool = False,
        locale: str = 'en-US',
    ) -> InteractionHandle:
        """A member invokes a registered slash command; ``name`` may include subcommands ('news add').

        ``options`` maps option names to Python values (attachment dicts from add_attachment, user/role/
        channel dicts or ids); types come from the registered command. Raises InteractionRejected when
        Discord would not deliver it, unless ``bypass_permissions`` (an admin override made it visible).
        """
        root, *path = name.split()
        cid = channel_id or self.channel_id
        channel = self.state.channels[cid]
        guild = self.guild_of(channel)
        command = self.find_command(root, guild.id if guild else None)
        uid = id_of(user if user is not None else self.alice)
        if not bypass_permissions:
            self._check_command_access(command, channel, uid)
        resolved: dict[str, dict[str, Any]] = {}
        data: dict[str, Any] = {
            'id': command['id'],
            'name': root,
            'type': 1,
            'options': self._build_options(command, path, options or {}, guild, None, resolved),
        }
        if resolved:
            data['resolved'] = resolved
        if 'guild_id' in command:
            data['guild_id'] = command['guild_id']
        return await self.send_interaction(2, data, user=uid, channel_id=cid, locale=locale)

    async def send_autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        user: Optional[UserRef] = None,
        channel_id: Optional[int] = None,
    ) -> InteractionHandle:
        """A member types into option ``focused`` of a registered command (type 4 interaction)."""
        root, *path = name.split()
        cid = channel_id or self.channel_id
        guild = self.guild_of(self.state.channels[cid])
        command = self.find_command(root, guild.id if guild else None)
        resolved: dict[str, dict[str, Any]] = {}
        data: dict[str, Any] = {
            'id': command['id'],
            'name': root,
            'type': 1,
            'options': self._build_options(command, path, options, guild, focused, resolved),
        }
        if 'guild_id' in command:
            data['guild_id'] = command['guild_id']
        return await self.send_interaction(4, data, user=user, channel_id=cid)

    async def send_component(
        self,
        message_id: int,
        custom_id: str,
        *,
        user: Optional[UserRef] = None,
        component_type: int = 2,
        values: Optional[Sequence[str]] = None,
    ) -> InteractionHandle:
        """A member clicks a button / picks from a select on a stored message (type 3 interaction)."""
        message = self.state.messages[message_id]
        data: dict[str, Any] = {'custom_id': custom_id, 'component_type': component_type}
        if values is not None:
            data['values'] = list(values)
        return await self.send_interaction(3, data, user=user, message=message)
