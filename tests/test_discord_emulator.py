"""Proves the Discord emulator against a real, unmodified discord.py client (a tiny bot defined here)."""

from __future__ import annotations

import asyncio
import io
import socket
import time
from typing import Any, Awaitable, Callable, Iterator

import discord
import pytest
import pytest_socket
from discord import app_commands
from discord.ext import commands

from discord_emulator import InteractionRejected, emulator, loopback_only, rules, running_client
from discord_emulator.gateway import shard_of
from discord_emulator.server import Emulator

TEST_TIMEOUT = 20.0


@pytest.fixture(autouse=True)
def _loopback() -> Iterator[None]:
    """Any connection off 127.0.0.1 fails the test, whatever the shared conftest configures."""
    with loopback_only():
        yield


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), TEST_TIMEOUT))


def make_bot(*, message_content: bool = False, **kwargs: Any) -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = message_content
    return commands.Bot(command_prefix='!', intents=intents, guild_ready_timeout=0.1, **kwargs)


def text_channel(bot: discord.Client, emu: Emulator) -> discord.TextChannel:
    channel = bot.get_channel(emu.channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


def test_login_identify_and_ready() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot = make_bot(message_content=True)
            ready = asyncio.Event()

            async def on_ready() -> None:
                ready.set()

            bot.add_listener(on_ready)
            async with running_client(emu, bot):
                await asyncio.wait_for(ready.wait(), 5)
                identify = await emu.wait_for_identify()
                assert identify['token'] == emu.config.token
                assert identify['intents'] == bot.intents.value
                assert identify['intents'] & discord.Intents(message_content=True).value
                assert bot.user is not None and bot.user.id == emu.application_id
                guild = bot.get_guild(emu.guild_id)
                assert guild is not None and guild.me is not None and guild.owner_id == int(emu.owner['id'])
                assert {c.name for c in guild.text_channels} == {'general', 'news'}
            assert emu.violations == []

    run(scenario)


def test_world_changes_after_connect_are_dispatched() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            intents = discord.Intents.default()
            intents.members = True
            bot = commands.Bot(command_prefix='!', intents=intents, guild_ready_timeout=0.1)
            async with running_client(emu, bot):
                guild = bot.get_guild(emu.guild_id)
                assert guild is not None and guild.get_member(int(emu.alice['id'])) is not None
                editors = discord.Permissions(manage_messages=True).value
                role = await emu.add_role(emu.guild_id, 'Editors', permissions=editors)
                channel = await emu.add_channel(emu.guild_id, 'desk')
                bob = emu.add_user('bob')
                await emu.add_member(emu.guild_id, bob, roles=[int(role['id'])])
                member = await emu.wait_until(lambda: guild.get_member(int(bob['id'])), 5)
            assert guild.get_channel(int(channel['id'])) is not None
            assert [r.name for r in member.roles] == ['@everyone', 'Editors']

    run(scenario)


def test_message_content_intent_hides_content_unless_mentioned() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot = make_bot(message_content=False)
            seen: asyncio.Queue[discord.Message] = asyncio.Queue()
            bot.add_listener(seen.put, 'on_message')
            async with running_client(emu, bot):
                await emu.send_user_message(emu.channel_id, emu.alice, 'plain chatter')
                plain = await asyncio.wait_for(seen.get(), 5)
                await emu.send_user_message(emu.channel_id, emu.alice, f'<@{emu.application_id}> what is new?')
                mention = await asyncio.wait_for(seen.get(), 5)
                await emu.send_user_message(int(emu.open_dm(emu.alice)['id']), emu.alice, 'hi in private')
                direct = await asyncio.wait_for(seen.get(), 5)
            assert plain.content == '' and plain.author.id == int(emu.alice['id'])
            assert mention.content == f'<@{emu.application_id}> what is new?'
            assert bot.user in mention.mentions
            assert direct.content == 'hi in private' and direct.guild is None

    run(scenario)


class Confirm(discord.ui.View):
    @discord.ui.button(label='Confirm', custom_id='confirm')
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(content='Confirmed', view=None)


def make_command_bot(**kwargs: Any) -> tuple[commands.Bot, list[BaseException]]:
    """A bot with one slash command per behaviour under test; app command errors are collected."""
    bot = make_bot(**kwargs)
    errors: list[BaseException] = []

    @bot.tree.command(description='Thinks, then follows up twice')
    async def slow(interaction: discord.Interaction, pause: float = 0.05) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(pause)
        await interaction.followup.send('done')
        extra = await interaction.followup.send('more', wait=True)
        await extra.edit(content='more, edited')

    @bot.tree.command(description='Answers after a delay')
    async def late(interaction: discord.Interaction, delay: float) -> None:
        await asyncio.sleep(delay)
        await interaction.response.send_message('finally')

    @bot.tree.command(description='Follows up before acknowledging')
    async def eager(interaction: discord.Interaction) -> None:
        await interaction.followup.send('too soon')

    @bot.tree.command(description='Acknowledges twice, as two racing handlers would')
    async def twice(interaction: discord.Interaction) -> None:
        await interaction.response.send_message('first')
        await discord.InteractionResponse(interaction).send_message('second')

    @bot.tree.command(description='Look up a topic')
    async def topic(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(name)

    @topic.autocomplete('name')
    async def topic_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        count = 26 if current == 'many' else 3
        return [app_commands.Choice(name=f'topic {i}', value=f't{i}') for i in range(count)]

    @bot.tree.command(description='Report an uploaded file size')
    async def upload(interaction: discord.Interaction, file: discord.Attachment) -> None:
        data = await file.read()
        await interaction.response.send_message(f'{file.filename}:{len(data)}')

    @bot.tree.command(description='Admins only')
    @app_commands.default_permissions(manage_guild=True)
    async def purge(interaction: discord.Interaction) -> None:
        if not interaction.permissions.manage_guild:
            await interaction.response.send_message('Not allowed.', ephemeral=True)
            return
        await interaction.response.send_message('Purged.')

    @bot.tree.error
    async def on_app_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        errors.append(error)

    return bot, errors


def test_tree_sync_stores_commands() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot, _ = make_command_bot()
            async with running_client(emu, bot):
                synced = await bot.tree.sync()
                guild_synced = await bot.tree.sync(guild=discord.Object(emu.guild_id))
            stored = emu.state.commands[None]
            names = {'slow', 'late', 'eager', 'twice', 'topic', 'upload', 'purge'}
            assert {c['name'] for c in stored.values()} == names
            assert {c.id for c in synced} == set(stored)
            purge = next(c for c in stored.values() if c['name'] == 'purge')
            assert purge['default_member_permissions'] == str(discord.Permissions(manage_guild=True).value)
            assert guild_synced == [] and emu.state.commands[emu.guild_id] == {}
            assert emu.violations == []

    run(scenario)


def test_defer_then_followups() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot, errors = make_command_bot()
            async with running_client(emu, bot):
                await bot.tree.sync()
                handle = await emu.send_command('slow')
                response = await handle
                followups = await handle.wait_followups(2)
                await emu.wait_for_call('PATCH', rf'/webhooks/{emu.application_id}/{handle.token}/messages/\d+')
            assert response.type == 5
            # The first followup after a 'thinking' defer replaces the loading message; the second is new.
            assert [m['content'] for m in followups] == ['done', 'more, edited']
            assert [s.source for s in emu.state.sent] == ['interaction_response', 'deferred_fill', 'followup', 'edit']
            assert followups[0]['id'] == handle.original['id'] and followups[1]['id'] != followups[0]['id']
            assert handle.original['flags'] & discord.MessageFlags(loading=True).value == 0
            assert errors == [] and emu.violations == []

    run(scenario)


def test_response_after_deadline_is_rejected() -> None:
    async def scenario() -> None:
        async with emulator(interaction_deadline=0.3) as emu:
            bot, errors = make_command_bot()
            async with running_client(emu, bot):
                await bot.tree.sync()
                on_time = await emu.send_command('late', {'delay': 0})
                await on_time
                too_late = await emu.send_command('late', {'delay': 0.5})
                await emu.wait_until(lambda: errors, 5)
            assert too_late.record.ack is None
            assert [v.rule for v in emu.violations] == ['interaction_late']
            error = errors[0]
            assert isinstance(error, app_commands.CommandInvokeError) and isinstance(error.original, discord.NotFound)
            assert error.original.code == 10062

    run(scenario)


def test_followup_after_token_expiry_is_rejected() -> None:
    async def scenario() -> None:
        async with emulator(interaction_token_ttl=0.2) as emu:
            bot, errors = make_command_bot()
            async with running_client(emu, bot):
                await bot.tree.sync()
                handle = await emu.send_command('slow', {'pause': 0.3})
                await emu.wait_until(lambda: errors, 5)
            assert (await handle.wait_response()).type == 5 and handle.followups == []
            assert [v.rule for v in emu.violations] == ['interaction_token_expired']
            assert isinstance(errors[0], app_commands.CommandInvokeError)
            assert isinstance(errors[0].original, discord.HTTPException) and errors[0].original.code == 50027

    run(scenario)


def test_followup_before_acknowledgement_is_rejected() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot, errors = make_command_bot()
            async with running_client(emu, bot):
                await bot.tree.sync()
                handle = await emu.send_command('eager')
                await emu.wait_until(lambda: errors, 5)
            assert handle.followups == [] and handle.record.ack is None
            assert [v.rule for v in emu.violations] == ['followup_before_ack']
            assert isinstance(errors[0], app_commands.CommandInvokeError)
            assert isinstance(errors[0].original, discord.NotFound) and errors[0].original.code == 10015

    run(scenario)


def test_second_acknowledgement_is_rejected() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot, errors = make_command_bot()
            async with running_client(emu, bot):
                await bot.tree.sync()
                handle = await emu.send_command('twice')
                await emu.wait_until(lambda: errors, 5)
            assert (await handle.wait_response()).type == 4 and handle.original['content'] == 'first'
            assert [v.rule for v in emu.violations] == ['interaction_already_acknowledged']
            assert isinstance(errors[0], app_commands.CommandInvokeError)
            assert isinstance(errors[0].original, discord.HTTPException) and errors[0].original.code == 40060

    run(scenario)


def test_content_over_2000_chars_is_a_400_and_a_violation() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot = make_bot()
            async with running_client(emu, bot):
                channel = text_channel(bot, emu)
                await channel.send('x' * 2000)
                with pytest.raises(discord.HTTPException) as caught:
                    await channel.send('x' * 2001)
            assert caught.value.status == 400 and caught.value.code == 50035
            assert len(emu.violations) == 1
            assert emu.violations[0].body['errors']['content']['_errors'][0]['code'] == 'BASE_TYPE_MAX_LENGTH'

    run(scenario)


def test_everyone_pings_only_without_allowed_mentions() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot = make_bot()
            async with running_client(emu, bot):
                channel = text_channel(bot, emu)
                loud = await channel.send('@everyone breaking news')
                quiet = await channel.send('@everyone breaking news', allowed_mentions=discord.AllowedMentions.none())
            assert [(p.kind, p.message_id) for p in emu.pings] == [('everyone', loud.id)]
            sent = {s.message_id: s for s in emu.state.sent}
            assert sent[loud.id].allowed_mentions is None
            assert sent[quiet.id].allowed_mentions == {'parse': []} and sent[quiet.id].pings == []

        async with emulator() as emu:
            bot = make_bot(allowed_mentions=discord.AllowedMentions.none())
            async with running_client(emu, bot):
                await text_channel(bot, emu).send(f'@here <@{emu.alice["id"]}> <@&{emu.role_id("Admin")}>')
            assert emu.pings == []

    run(scenario)


def test_injected_429_and_502_are_retried() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot = make_bot()
            async with running_client(emu, bot):
                channel = text_channel(bot, emu)
                emu.fail_next('POST', r'/channels/\d+/messages', status=429, retry_after=0.3)
                started = time.monotonic()
                first = await channel.send('after a rate limit')
                assert time.monotonic() - started >= 0.3
                emu.fail_next('POST', r'/channels/\d+/messages', status=502)
                second = await channel.send('after a bad gateway')
            posts = [c.status for c in emu.calls if c.method == 'POST' and c.route == '/channels/{channel_id}/messages']
            assert posts == [429, 200, 502, 200]
            assert emu.messages[first.id]['content'] == 'after a rate limit'
            assert emu.messages[second.id]['content'] == 'after a bad gateway'

    run(scenario)


def test_dropped_gateway_is_resumed_and_missed_events_replayed() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot = make_bot(message_content=True)
            seen: asyncio.Queue[discord.Message] = asyncio.Queue()
            resumed = asyncio.Event()

            async def on_resumed() -> None:
                resumed.set()

            bot.add_listener(seen.put, 'on_message')
            bot.add_listener(on_resumed)
            async with running_client(emu, bot):
                await emu.drop_gateway()
                await emu.send_user_message(emu.channel_id, emu.alice, 'sent while disconnected')
                await asyncio.wait_for(resumed.wait(), 5)
                await emu.send_user_message(emu.channel_id, emu.alice, 'sent after resume')
                first = await asyncio.wait_for(seen.get(), 5)
                second = await asyncio.wait_for(seen.get(), 5)
                resumed.clear()
                await emu.request_reconnect()
                await asyncio.wait_for(resumed.wait(), 5)
            assert [first.content, second.content] == ['sent while disconnected', 'sent after resume']
            assert len(emu.identifies) == 1 and len(emu.state.resumes) == 2
            assert emu.state.resumes[0]['session_id'] == next(iter(emu.gateway.sessions))

    run(scenario)


def test_autocomplete_with_26_choices_is_a_violation() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot, _ = make_command_bot()
            async with running_client(emu, bot):
                await bot.tree.sync()
                few = await emu.send_autocomplete('topic', {'name': 'ec'}, focused='name')
                assert len((await few).data['choices']) == 3
                many = await emu.send_autocomplete('topic', {'name': 'many'}, focused='name')
                await emu.wait_until(lambda: emu.violations, 5)
            assert many.record.ack is None
            assert [v.rule for v in emu.violations] == ['invalid_interaction_response']
            assert 'choices' in emu.violations[0].body['errors']['data']

    run(scenario)


def test_heartbeats_arrive_on_time_with_current_sequence() -> None:
    async def scenario() -> None:
        async with emulator(heartbeat_interval_ms=250) as emu:
            bot = make_bot()
            async with running_client(emu, bot):
                await emu.wait_until(lambda: len(emu.heartbeats) >= 6, 5)
            beats = emu.heartbeats
            assert all(b.gap <= 0.25 * 1.2 for b in beats[1:]), [round(b.gap, 3) for b in beats]
            assert all(b.sequence == b.last_sent_sequence for b in beats[1:])
            assert emu.violations == []

    run(scenario)


def test_attachment_option_is_downloadable_over_loopback() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot, errors = make_command_bot()
            async with running_client(emu, bot):
                await bot.tree.sync()
                attachment = emu.add_attachment('story.txt', b'hello newsroom', 'text/plain')
                handle = await emu.send_command('upload', {'file': attachment})
                await handle
            assert handle.payload['data']['resolved']['attachments'][attachment['id']]['url'].startswith(emu.http_url)
            assert handle.original['content'] == 'story.txt:14'
            assert errors == [] and emu.violations == []

    run(scenario)


def test_default_member_permissions_gate_delivery() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot, errors = make_command_bot()
            async with running_client(emu, bot):
                await bot.tree.sync()
                with pytest.raises(InteractionRejected):
                    await emu.send_command('purge', user=emu.alice)
                allowed = await emu.send_command('purge', user=emu.owner)
                overridden = await emu.send_command('purge', user=emu.alice, bypass_permissions=True)
                await allowed
                await overridden
            assert allowed.original['content'] == 'Purged.'
            assert overridden.original['content'] == 'Not allowed.'
            assert overridden.original['flags'] & discord.MessageFlags(ephemeral=True).value
            assert errors == [] and emu.violations == []

    run(scenario)


def test_button_click_updates_the_message() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot = make_bot()
            async with running_client(emu, bot):
                sent = await text_channel(bot, emu).send('Publish?', view=Confirm())
                handle = await emu.send_component(sent.id, 'confirm')
                response = await handle
            assert response.type == 7
            assert emu.messages[sent.id]['content'] == 'Confirmed' and emu.messages[sent.id]['components'] == []
            assert emu.violations == []

    run(scenario)


def test_reply_in_thread_with_upload_and_no_pings() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            bot = make_bot(allowed_mentions=discord.AllowedMentions.none())

            async def on_message(message: discord.Message) -> None:
                if message.author.bot or bot.user not in message.mentions:
                    return
                await message.reply('On it.', mention_author=False)
                thread = await message.create_thread(name='Question')
                async with thread.typing():
                    upload = discord.File(io.BytesIO(b'%PDF-1.7'), 'answer.pdf')
                    answers.append(await thread.send('Answer', file=upload))

            answers: list[discord.Message] = []
            bot.add_listener(on_message)
            async with running_client(emu, bot):
                question = await emu.send_user_message(emu.channel_id, emu.alice, f'<@{emu.application_id}> who won?')
                reply = await emu.wait_for_message(emu.channel_id)
                answer = await emu.wait_for_message(int(question['id']))
                body = await answers[0].attachments[0].read()
            assert reply['referenced_message']['id'] == question['id']
            assert int(question['id']) in emu.state.threads
            assert body == b'%PDF-1.7' and answer['attachments'][0]['content_type'] == 'application/pdf'
            assert emu.pings == [] and emu.violations == []

    run(scenario)


def test_bad_token_and_disallowed_intents_fail_like_discord() -> None:
    async def scenario() -> None:
        async with emulator(privileged_intents=0) as emu:
            with pytest.raises(discord.PrivilegedIntentsRequired):
                async with running_client(emu, make_bot(message_content=True)):
                    pass
            with pytest.raises(discord.LoginFailure):
                async with running_client(emu, make_bot(), token='not-the-token'):
                    pass
            assert [c.status for c in emu.calls if c.path == '/users/@me'] == [200, 401]

    run(scenario)


def second_guild(emu: Emulator) -> tuple[int, int]:
    """A guild on the other of two shards than the default one; (guild id, channel id)."""
    return emu.add_guild_on_shard(1 - shard_of(emu.guild_id, 2), 2)


def sharded_bot(**kwargs: Any) -> commands.AutoShardedBot:
    return commands.AutoShardedBot(command_prefix=commands.when_mentioned, intents=discord.Intents.default(), guild_ready_timeout=0.1,
                                   **kwargs)


def test_shards_follow_discords_recommendation_and_formula() -> None:
    async def scenario() -> None:
        async with emulator(guilds_per_shard=1) as emu:
            second, _ = second_guild(emu)
            async with running_client(emu, sharded_bot()) as bot:
                assert bot.shard_count == 2 and sorted(bot.shards) == [0, 1]
                assert {bot.get_guild(g).shard_id for g in (emu.guild_id, second)} == {0, 1}  # type: ignore[union-attr]
            assert sorted(i['shard'] for i in emu.identifies) == [[0, 2], [1, 2]]
            assert emu.violations == []

    run(scenario)


def test_each_shard_gets_only_its_guilds_events_and_interactions() -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            second, channel = second_guild(emu)
            seen: dict[int, list[tuple[str, int | None]]] = {0: [], 1: []}

            def watching(shard: int) -> commands.AutoShardedBot:
                bot = sharded_bot(shard_count=2, shard_ids=[shard])

                @bot.event
                async def on_message(message: discord.Message) -> None:
                    if not message.author.bot:
                        seen[shard].append(('message', message.guild.id if message.guild else None))

                @bot.tree.command(description='Says which shard answered')
                async def where(interaction: discord.Interaction) -> None:
                    seen[shard].append(('where', interaction.guild_id))
                    await interaction.response.send_message(f'shard {shard}')

                return bot

            zero, one = watching(0), watching(1)
            async with running_client(emu, zero), running_client(emu, one):
                await zero.tree.sync()
                owners = {shard_of(emu.guild_id, 2): emu.guild_id, shard_of(second, 2): second}
                assert [g.id for g in zero.guilds] == [owners[0]] and [g.id for g in one.guilds] == [owners[1]]
                first = await emu.send_command('where')
                other = await emu.send_command('where', channel_id=channel)
                for handle, guild in ((first, emu.guild_id), (other, second)):
                    assert (await handle).data['content'] == f'shard {shard_of(guild, 2)}'
                await emu.send_user_message(channel, emu.alice, 'hello')
                await emu.send_user_message(int(emu.open_dm(emu.alice)['id']), emu.alice, 'psst')
                await emu.wait_until(lambda: sum(e == 'message' for e, _ in seen[0] + seen[1]) == 2)
                await asyncio.sleep(0.1)  # a wrongly routed copy would arrive meanwhile
            shard = shard_of(second, 2)
            expected = {0: [('where', owners[0])], 1: [('where', owners[1])]}
            expected[shard].append(('message', second))
            expected[0].append(('message', None))  # DMs go to shard 0
            assert {k: sorted(v, key=str) for k, v in seen.items()} == {k: sorted(v, key=str) for k, v in expected.items()}
            assert emu.violations == []

    run(scenario)


def test_invalid_shards_and_too_many_guilds_are_refused_like_discord() -> None:
    async def scenario() -> None:
        async with emulator(max_guilds_per_shard=1) as emu:
            second_guild(emu)
            with pytest.raises(discord.ConnectionClosed) as invalid:
                async with running_client(emu, sharded_bot(shard_count=2, shard_ids=[2])):
                    pass
            with pytest.raises(discord.ConnectionClosed) as crowded:
                async with running_client(emu, make_bot()):
                    pass
            async with running_client(emu, sharded_bot(shard_count=2)) as bot:
                assert len(bot.guilds) == 2
            assert (invalid.value.code, crowded.value.code) == (4010, 4011)

    run(scenario)


@pytest.mark.filterwarnings('ignore:A test tried to use socket')
def test_non_loopback_connections_are_blocked() -> None:
    with pytest.raises(pytest_socket.SocketConnectBlockedError):
        socket.create_connection(('192.0.2.1', 443), timeout=1)


def test_rules_match_discord_limits() -> None:
    def codes(errors: list[rules.FieldError]) -> set[tuple[Any, ...]]:
        return {(*e.path, e.code) for e in errors}

    fields = [{'name': 'n', 'value': 'v'}] * 26
    assert codes(rules.validate_embeds([{'title': 't' * 257, 'fields': fields}])) == {
        ('embeds', 0, 'title', 'BASE_TYPE_MAX_LENGTH'),
        ('embeds', 0, 'fields', 'BASE_TYPE_MAX_LENGTH'),
    }
    assert codes(rules.validate_embeds([{'description': 'd' * 4000}, {'description': 'd' * 2001}])) == {
        ('embeds', 'MAX_EMBED_SIZE_EXCEEDED')
    }
    assert codes(rules.validate_embeds([{'fields': [{'name': '', 'value': 'v' * 1025}]}])) == {
        ('embeds', 0, 'fields', 0, 'name', 'BASE_TYPE_REQUIRED'),
        ('embeds', 0, 'fields', 0, 'value', 'BASE_TYPE_MAX_LENGTH'),
    }
    button = {'type': 2, 'style': 1, 'label': 'ok'}
    rows = [{'type': 1, 'components': [{**button, 'custom_id': f'b{r}{i}'} for i in range(5)]} for r in range(5)]
    assert rules.validate_components(rows) == []
    sixth = {'type': 1, 'components': [{**button, 'custom_id': 'x' * 101, 'label': 'l' * 81}] * 6}
    assert codes(rules.validate_components([*rows, sixth])) == {
        ('components', 'BASE_TYPE_MAX_LENGTH'),
        ('components', 5, 'components', 'BASE_TYPE_MAX_LENGTH'),
        *((('components', 5, 'components', i, 'custom_id', 'BASE_TYPE_BAD_LENGTH')) for i in range(6)),
        *((('components', 5, 'components', i, 'custom_id', 'COMPONENT_CUSTOM_ID_DUPLICATED')) for i in range(1, 6)),
        *((('components', 5, 'components', i, 'label', 'BASE_TYPE_MAX_LENGTH')) for i in range(6)),
    }
    mutually_exclusive = rules.validate_allowed_mentions({'parse': ['users'], 'users': ['1']})
    assert codes(mutually_exclusive) == {('allowed_mentions', 'users', 'SET_TYPE_ALREADY_CONTAINS_VALUE')}
    assert rules.allowed_pings('<@1> <@&2> @here', {'parse': ['roles'], 'users': ['1']}) == [('user', 1), ('role', 2)]
    assert rules.allowed_pings('thanks', {'parse': []}, replied_user_id=3) == []
    assert rules.allowed_pings('thanks', None, replied_user_id=3) == [('replied_user', 3)]
