"""Messages: what the bot posts or edits over REST, what users post, and how each is dispatched.

One place stores a message, records the pings the bot caused and shapes the MESSAGE_* events per
session (member objects, content hidden without the intent), so REST and user-side paths agree.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional, Sequence

from . import payloads as p
from . import rules
from .permissions import Permissions
from .state import InteractionRecord, Ping, SentMessage, UploadedFile
from .world import UserRef, id_of

if TYPE_CHECKING:
    from .gateway import Gateway


class Messages(Permissions):
    """Emulator mixin creating, editing, deleting and dispatching messages."""

    gateway: Gateway  # set by Emulator.__init__

    def gateway_message(self, msg: Mapping[str, Any]) -> dict[str, Any]:
        """A stored message as MESSAGE_CREATE/UPDATE carries it: plus guild_id and member objects."""
        data = dict(msg)
        guild = self.guild_of(self.state.channels[int(msg['channel_id'])])
        if guild is not None:
            data['guild_id'] = str(guild.id)
            author = guild.members.get(int(msg['author']['id']))
            if author is not None and 'webhook_id' not in msg:
                data['member'] = {k: v for k, v in author.items() if k != 'user'}
            data['mentions'] = [
                {**u, 'member': {k: v for k, v in guild.members[int(u['id'])].items() if k != 'user'}}
                if int(u['id']) in guild.members
                else u
                for u in msg['mentions']
            ]
        return data

    def message_for(self, msg: Mapping[str, Any], has_intent: bool) -> dict[str, Any]:
        """``msg`` with content, embeds, attachments, components and poll emptied if the intent hides them."""
        data = dict(msg)
        if not self.content_visible(msg, has_intent):
            data.update(content='', embeds=[], attachments=[], components=[])
            data.pop('poll', None)
        if data.get('referenced_message'):
            data['referenced_message'] = self.message_for(data['referenced_message'], has_intent)
        return data

    async def _dispatch_message(self, event: str, msg: Mapping[str, Any]) -> None:
        """Dispatch ``event`` for ``msg``, shaped per session; ephemeral messages never reach the gateway."""
        if msg['flags'] & p.FLAG_EPHEMERAL:
            return
        base = self.gateway_message(msg)
        await self.gateway.dispatch(event, base, lambda s: self.message_for(base, s.has(p.INTENT_MESSAGE_CONTENT)))

    def _build_attachments(self, body: Mapping[str, Any], files: Sequence[UploadedFile]) -> list[dict[str, Any]]:
        """Turn ``files[n]`` parts into stored attachments, taking descriptions from body['attachments']."""
        described = {str(a.get('id')): a for a in body.get('attachments') or []}
        result = []
        for index, upload in enumerate(files):
            number = re.fullmatch(r'files\[(\d+)\]', upload.field)
            meta = described.get(number.group(1) if number else str(index), {})
            att = self.add_attachment(meta.get('filename') or upload.filename, upload.data, upload.content_type)
            if meta.get('description'):
                att['description'] = meta['description']
            result.append(att)
        return result

    def _mentions(
        self, content: str, allowed: Optional[dict[str, Any]], replied_user_id: Optional[int]
    ) -> tuple[list[tuple[str, Optional[int]]], list[dict[str, Any]], list[int], bool]:
        """The pings ``allowed`` lets through, and the mentions/mention_roles/mention_everyone fields they imply."""
        pings = rules.allowed_pings(content, allowed, replied_user_id=replied_user_id)
        users = [self.state.users[t] for k, t in pings if k in ('user', 'replied_user') and t in self.state.users]
        roles = [t for k, t in pings if k == 'role' and t is not None]
        everyone = any(k in ('everyone', 'here') for k, _ in pings)
        return pings, users, roles, everyone

    def _record_sent(
        self,
        msg: Mapping[str, Any],
        source: str,
        allowed: Optional[dict[str, Any]],
        pings: list[tuple[str, Optional[int]]],
        notified: bool,
    ) -> None:
        """Audit a bot-sent message and its pings (``notified`` False where Discord pushes nothing)."""
        mid, cid = int(msg['id']), int(msg['channel_id'])
        recorded = [Ping(kind, target, mid, cid, source, notified) for kind, target in pings]
        self.state.pings.extend(recorded)
        self.state.sent.append(SentMessage(source, mid, cid, allowed, recorded))

    async def create_message(
        self,
        channel_id: int,
        author: Mapping[str, Any],
        body: Mapping[str, Any],
        *,
        files: Sequence[UploadedFile] = (),
        source: str = 'channel',
        extra_flags: int = 0,
        message_type: Optional[int] = None,
        message_id: Optional[int] = None,
        interaction: Optional[InteractionRecord] = None,
    ) -> dict[str, Any]:
        """Store a new message, record its pings if the bot sent it, and dispatch MESSAGE_CREATE.

        The caller has already validated ``body`` against Discord's rules.
        """
        ref = body.get('message_reference')
        referenced = self.state.messages.get(int(ref['message_id'])) if ref and ref.get('message_id') else None
        allowed = body.get('allowed_mentions')
        replied = int(referenced['author']['id']) if referenced else None
        pings, users, roles, everyone = self._mentions(body.get('content') or '', allowed, replied)
        mid = message_id or self.snowflakes.next()
        metadata = None
        if interaction is not None:
            invoker = self.state.users[interaction.user_id]
            metadata = {
                'id': str(interaction.id),
                'type': interaction.type,
                'user': invoker,
                'authorizing_integration_owners': interaction.payload['authorizing_integration_owners'],
            }
            if interaction.type == 2:
                metadata['name'] = interaction.payload['data']['name']
        is_bot = author['id'] == self.bot_user['id']
        msg = p.message(
            mid,
            channel_id,
            dict(author),
            body.get('content') or '',
            type=message_type if message_type is not None else (19 if referenced else 0),
            embeds=body.get('embeds') or [],
            attachments=self._build_attachments(body, files),
            components=body.get('components') or [],
            mentions=users,
            mention_roles=roles,
            mention_everyone=everyone,
            flags=(body.get('flags') or 0) | extra_flags,
            tts=bool(body.get('tts')),
            message_reference={**ref, 'channel_id': referenced['channel_id']} if referenced else None,
            referenced_message=referenced,
            webhook_id=self.application_id if interaction is not None else None,
            application_id=self.application_id if interaction is not None else None,
            interaction_metadata=metadata,
        )
        if body.get('poll'):
            msg['poll'] = body['poll']
        self.state.messages[mid] = msg
        channel = self.state.channels[channel_id]
        channel['last_message_id'] = str(mid)
        if is_bot:
            self._record_sent(msg, source, allowed, pings, notified=not msg['flags'] & p.FLAG_LOADING)
        await self._dispatch_message('MESSAGE_CREATE', msg)
        return msg

    async def edit_message(
        self, msg: dict[str, Any], body: Mapping[str, Any], files: Sequence[UploadedFile] = (), *, source: str = 'edit'
    ) -> dict[str, Any]:
        """Apply a PATCH body; a deferred ('thinking') message is filled in rather than edited."""
        filling = bool(msg['flags'] & p.FLAG_LOADING)
        for key in ('content', 'embeds', 'components'):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ('' if key == 'content' else [])
        if 'attachments' in body:
            keep = {str(a['id']) for a in body['attachments'] or []}
            msg['attachments'] = [a for a in msg['attachments'] if a['id'] in keep]
        msg['attachments'] += self._build_attachments(body, files)
        if 'flags' in body and body['flags'] is not None:
            msg['flags'] = (msg['flags'] & ~(1 << 2)) | (body['flags'] & (1 << 2))
        msg['flags'] &= ~p.FLAG_LOADING
        allowed = body.get('allowed_mentions')
        ref = msg.get('referenced_message')
        replied = int(ref['author']['id']) if ref else None
        pings, users, roles, everyone = self._mentions(msg['content'], allowed, replied)
        msg.update(mentions=users, mention_roles=[str(r) for r in roles], mention_everyone=everyone)
        if not filling:
            msg['edited_timestamp'] = p.iso()
        self._record_sent(msg, 'deferred_fill' if filling else source, allowed, pings, notified=False)
        await self._dispatch_message('MESSAGE_UPDATE', msg)
        return msg

    async def delete_message(self, msg: Mapping[str, Any]) -> None:
        """Remove a message and dispatch MESSAGE_DELETE."""
        self.state.messages.pop(int(msg['id']), None)
        if msg['flags'] & p.FLAG_EPHEMERAL:
            return
        data = {'id': msg['id'], 'channel_id': msg['channel_id']}
        guild = self.guild_of(self.state.channels[int(msg['channel_id'])])
        if guild is not None:
            data['guild_id'] = str(guild.id)
        await self.gateway.dispatch('MESSAGE_DELETE', data)

    async def send_user_message(
        self,
        channel_id: int,
        author: UserRef,
        content: str = '',
        *,
        mentions: Iterable[UserRef] = (),
        embeds: Iterable[dict[str, Any]] = (),
        attachments: Iterable[dict[str, Any]] = (),
        reply_to: Optional[int] = None,
    ) -> dict[str, Any]:
        """A human posts a message: mentions are parsed from content (<@id>, <@&id>, @everyone) plus ``mentions``.

        Bots without the message-content intent get it with content/embeds/attachments/components
        emptied unless it mentions them or is a DM.
        """
        user = self.state.users[id_of(author)]
        mid = self.snowflakes.next()
        targets = rules.parse_mentions(content)
        mentioned = dict.fromkeys([*targets.users, *(id_of(m) for m in mentions)])
        referenced = self.state.messages.get(reply_to) if reply_to else None
        if referenced is not None:
            mentioned.setdefault(int(referenced['author']['id']))
        msg = p.message(
            mid,
            channel_id,
            user,
            content,
            type=19 if referenced else 0,
            embeds=embeds,
            attachments=attachments,
            mentions=[self.state.users[u] for u in mentioned if u in self.state.users],
            mention_roles=targets.roles,
            mention_everyone=targets.everyone or targets.here,
            message_reference={'message_id': str(reply_to), 'channel_id': str(channel_id)} if referenced else None,
            referenced_message=referenced,
        )
        self.state.messages[mid] = msg
        self.state.channels[channel_id]['last_message_id'] = str(mid)
        await self._dispatch_message('MESSAGE_CREATE', msg)
        return msg
