"""The real bot (discord.py client, real model, real index) end to end against the Discord emulator.

Each test is one scenario on its own emulator; the read-only `library` index (seeds plus 30 short
briefs) is built once per store, tests that change the corpus get their own desk from make_desk. Every test
that uses an index runs on both stores: the file store and Milvus (a Milvus Lite file).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
from discord_emulator import emulator, loopback_only, rules, running_client
from discord_emulator.server import Emulator, InteractionHandle
from pydantic import SecretStr

from bot import cli
from bot.app import NewsdeskBot
from bot.replies import UNAVAILABLE
from bot.settings import BotSettings
from index.config import PROJECT_ROOT, load_settings
from index.embed import Embedder
from index.errors import ConfigError
from index.models import Answer, Quote
from index.service import Newsdesk

TOKEN = "NzkyNzE1NDU0MTk2MDg4ODQy.X-hvzA.Ovy4MCQywSkoMRRclStW4xAYK7I"
TEST_TIMEOUT = 60.0
G8 = "Why was Russia expelled from the G8?"
CRIMEA = ("Russia was expelled in 2014 from what was known as the Group of 8 after Mr. Putin annexed Ukraine’s "
          "Crimean Peninsula.")
TUNGSTEN = "What is the boiling point of tungsten?"
EPHEMERAL = discord.MessageFlags(ephemeral=True).value
MANAGE_GUILD = str(discord.Permissions(manage_guild=True).value)
COMMANDS = {"ask", "compare", "timeline", "sources", "source", "status", "help", "reindex", "add-article"}
SECRET = "disk on fire at /srv/private/index.sqlite"


@pytest.fixture(autouse=True)
def _loopback() -> Iterator[None]:
    """Any connection off 127.0.0.1 fails the test."""
    with loopback_only():
        yield


def run(scenario: Callable[[], Awaitable[None]], timeout: float = TEST_TIMEOUT) -> None:
    asyncio.run(asyncio.wait_for(scenario(), timeout))


def brief(number: int) -> str:
    """A tiny article about a harbour crane; 30 of them make the listings span pages."""
    return (f"---\ntitle: Harbour brief {number:02d}\noutlet: Test Wire\npublished: 2021-03-{number + 1:02d}\n"
            f"---\nCrane number {number} at the north harbour was repaired by a crew of {number + 3} engineers.\n")


LONG_ID = ("harbour-dredging-schedule-" + "with-every-berth-and-date-" * 4)[:120]  # ids are cut to 120
LONG_ARTICLE = "---\ntitle: Dredging schedule\n---\nDredging starts at berth four on the first of June.\n"


@pytest.fixture(scope="module", params=["file", "milvus"])
def store(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_desk(make_desk: Callable[..., Newsdesk], store: str) -> Callable[..., Newsdesk]:
    """conftest's make_desk on this module's store."""
    return lambda **overrides: make_desk(store=store, **overrides)


@pytest.fixture(scope="module")
def coverage_desk(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, store: str) -> Newsdesk:
    """conftest's coverage index, on this module's store."""
    data = tmp_path_factory.mktemp(f"coverage-{store}")
    desk = Newsdesk(load_settings(data_dir=data, seeds_dir=PROJECT_ROOT / "tests/coverage",
                                  articles_dir=data / "articles", store=store), embedder=embedder)
    assert len(desk.reindex().added) == 5
    return desk


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, store: str) -> Newsdesk:
    """Read-only: the seed articles plus 30 briefs (more than a /sources page and 25 choices)."""
    data = tmp_path_factory.mktemp(f"library-{store}")
    desk = Newsdesk(load_settings(data_dir=data, articles_dir=data / "articles", store=store), embedder=embedder)
    desk.settings.articles_path.mkdir(parents=True)
    for number in range(30):
        (desk.settings.articles_path / f"brief-{number:02d}.md").write_text(brief(number), encoding="utf-8")
    (desk.settings.articles_path / f"{LONG_ID}.md").write_text(LONG_ARTICLE, encoding="utf-8")
    report = desk.reindex()
    assert len(report.added) == 33 and not report.failed
    return desk


@contextlib.asynccontextmanager
async def live(emu: Emulator, desk: Newsdesk, **settings: Any) -> AsyncIterator[NewsdeskBot]:
    """The bot as `newsdesk run` builds it, connected, with its commands synced as `newsdesk sync` would."""
    bot = NewsdeskBot(desk, BotSettings(**{"cooldown_seconds": 0, "token": SecretStr(TOKEN), **settings}),
                      guild_ready_timeout=0.1)
    async with running_client(emu, bot):
        await bot.tree.sync()
        yield bot


async def logged(caplog: pytest.LogCaptureFixture, text: str, timeout: float = 10.0) -> None:
    """Wait for a log line the bot writes after a read in a thread (on_ready's status)."""
    deadline = time.monotonic() + timeout
    while text not in caplog.text and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


def unrender(description: str) -> list[str]:
    """Quote texts back from an embed description: block-quote markers and escapes removed."""
    quotes = []
    for block in description.split("\n\n"):
        lines = [re.sub(r"^> ?", "", line) for line in block.split("\n")]
        quotes.append(re.sub(r"\\(.)", r"\1", "\n".join(lines)).replace("@\u200b", "@"))
    return quotes


def assert_verbatim(desk: Newsdesk, message: dict[str, Any], answer: Answer) -> None:
    """Every quote shown is the core's quote for this question, and a slice of its article."""
    assert message["embeds"], message["content"]
    shown = [q for embed in message["embeds"] for q in unrender(embed["description"])]
    assert shown == [q.text for q in answer.quotes]
    for quote in answer.quotes:
        article, _ = desk.source(quote.article_id)
        assert article.text[quote.start:quote.end] == quote.text


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Emoji (or label) -> custom_id of the message's buttons."""
    found = {}
    for row in message["components"]:
        for button in row["components"]:
            key = (button.get("emoji") or {}).get("name") or button.get("label")
            found[key] = button["custom_id"]
    return found


def replies_to(message: dict[str, Any], question: dict[str, Any]) -> bool:
    return str((message.get("message_reference") or {}).get("message_id")) == str(question["id"])


def typing(emu: Emulator) -> list[int]:
    """Channels the bot showed 'typing…' in: it does so as soon as it starts on a question."""
    return [int(c.path.split("/")[2]) for c in emu.calls if c.method == "POST" and c.path.endswith("/typing")]


def broken(*args: object, **kwargs: object) -> Any:
    raise RuntimeError(SECRET)


def assert_apologised(handle: InteractionHandle, caplog: pytest.LogCaptureFixture) -> None:
    """A short ephemeral apology for the user, the interaction id and the traceback in the log."""
    response = handle.record.ack
    assert response is not None and response.data["flags"] & EPHEMERAL
    assert response.data["content"].startswith("Sorry, something went wrong")
    assert SECRET not in response.data["content"] and "Traceback" not in response.data["content"]
    logged = [r for r in caplog.records if f"interaction {handle.id}" in r.getMessage()]
    assert logged and logged[0].levelno == logging.ERROR and logged[0].exc_info


def no_token_anywhere(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    assert TOKEN not in caplog.text
    assert not any(TOKEN in repr(call.json) for call in emu.calls)
    assert not any(TOKEN in repr(message) for message in emu.messages.values())


# ---------------------------------------------------------------------------------------- connect


def test_identify_intents_mode_and_sync(library: Newsdesk, tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        async with emulator(token=TOKEN) as emu:
            async with live(emu, library) as bot:
                mentions_only = (await emu.wait_for_identify())["intents"]
                assert "mentions only" in bot.mode
                await logged(caplog, "; mentions only")
                handle = await emu.send_command("status", user=emu.alice)
                status = (await handle).data
            stored = {c["name"]: c for c in emu.state.commands[None].values()}
            qa = int(emu.find_channel("news")["id"])
            async with live(emu, library, qa_channels=[qa]) as bot:
                with_qa = emu.identifies[-1]["intents"]
                assert "Q&A channels" in bot.mode
                await logged(caplog, "; Q&A channels")
            assert emu.violations == []
            no_token_anywhere(emu, caplog)
        content = discord.Intents(message_content=True).value
        assert not mentions_only & content and with_qa & content
        counts = f"33 articles, {library.status().chunks} chunks"
        assert f"{counts}; mentions only" in caplog.text and f"{counts}; Q&A channels [{qa}]" in caplog.text
        assert set(stored) == COMMANDS
        for name in ("reindex", "add-article"):
            assert stored[name]["default_member_permissions"] == MANAGE_GUILD
            assert stored[name]["contexts"] == [0] or stored[name]["dm_permission"] is False  # servers only
        for name in COMMANDS - {"reindex", "add-article"}:
            assert stored[name]["default_member_permissions"] is None
        fields = {f["name"]: f["value"] for f in status["embeds"][0]["fields"]}
        assert fields["Articles"] == "33" and "mentions only" in fields["Mode"]

    run(scenario)


def test_run_without_a_token_refuses_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env["COLUMNS"] = "500"  # the core's stderr console wraps at 80 columns when not on a terminal
    result = subprocess.run([sys.executable, "-m", "index", "run"], cwd=tmp_path,
                            env={**env, "NEWSDESK_DATA_DIR": str(tmp_path / "data"),
                                 "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: no Discord token: set NEWSDESK_DISCORD_TOKEN in the environment or .env "
        "(see README, 'Running on Discord')"]
    assert not (tmp_path / "data").exists()


def test_refusals_at_connect_time_say_what_to_change(library: Newsdesk, tmp_path: Path) -> None:
    """`newsdesk run`'s last step, in a thread with its own event loop as from a shell."""

    def bot(**settings: Any) -> NewsdeskBot:
        return NewsdeskBot(library, BotSettings(**settings))

    async def scenario() -> None:
        async with emulator(token=TOKEN, privileged_intents=0) as emu:
            with pytest.raises(ConfigError, match="Discord refused the token"):
                await asyncio.to_thread(cli.serve, bot(), "not-the-token")
            with pytest.raises(ConfigError, match="unset NEWSDESK_DISCORD_QA_CHANNELS"):
                await asyncio.to_thread(cli.serve, bot(qa_channels=[emu.channel_id]), TOKEN)

    run(scenario)


def test_an_unreachable_discord_is_one_line_naming_the_network(library: Newsdesk,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    with pytest.raises(ConfigError, match=r"^cannot reach Discord \(network\)"):
        cli.serve(NewsdeskBot(library, BotSettings()), TOKEN)


def test_start_logs_one_line_with_mode_index_and_servers_and_no_voice_warnings(
        library: Newsdesk, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)

    async def scenario() -> None:
        async with emulator() as emu:
            async with live(emu, library):
                await asyncio.sleep(0.2)

    run(scenario)
    started = [r for r in caplog.records if r.getMessage().startswith("connected as")]
    assert len(started) == 1 and started[0].levelno == logging.INFO
    assert "1 server(s)" in started[0].getMessage() and "33 articles" in started[0].getMessage()
    assert "mentions only" in started[0].getMessage()
    assert not [r for r in caplog.records if "voice will NOT be supported" in r.getMessage()]


def test_a_slow_index_load_at_connect_keeps_the_gateway_beating(library: Newsdesk,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """on_ready reads the index status, which loads a new generation after another process re-indexed."""
    interval = 0.3
    status = library.status

    def loading() -> Any:
        time.sleep(4 * interval)  # a generation load at 97k chunks takes 0.65 s
        return status()

    monkeypatch.setattr(library, "status", loading)

    async def scenario() -> None:
        async with emulator(heartbeat_interval_ms=int(interval * 1000)) as emu:
            async with live(emu, library):
                await asyncio.sleep(6 * interval)
            gaps = [round(beat.gap, 2) for beat in emu.heartbeats[1:]]
            assert len(gaps) >= 4 and max(gaps) < interval * 1.5, gaps

    run(scenario)


# ---------------------------------------------------------------------------------------- questions


def test_mention_is_answered_with_verbatim_quotes_and_votes(library: Newsdesk, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    answer = library.ask(G8)
    assert any(CRIMEA in q.text for q in answer.quotes)

    async def scenario() -> None:
        async with emulator() as emu:
            async with live(emu, library) as bot:
                before = library.feedback_summary()
                question = await emu.send_user_message(emu.channel_id, emu.alice,
                                                       f"<@{emu.application_id}> {G8}")
                reply = await emu.wait_for_message(emu.channel_id, timeout=30)
                assert reply["referenced_message"]["id"] == question["id"]
                assert_verbatim(library, reply, answer)
                vote = buttons(reply)
                assert set(vote) == {"👍", "👎"}
                handle = await emu.send_component(int(reply["id"]), vote["👍"], user=emu.alice)
                response = await handle
                summary = bot.desk.feedback_summary()
                monkeypatch.setattr(bot.desk.feedback, "vote", broken)
                failed_vote = await emu.send_component(int(reply["id"]), vote["👎"], user=emu.alice)
                await failed_vote
                await emu.send_user_message(emu.channel_id, emu.alice, "thanks!", reply_to=int(reply["id"]))
                empty = await emu.send_user_message(emu.channel_id, emu.alice, f"<@{emu.application_id}>")
                explained = await emu.wait_for_message(emu.channel_id, lambda m: replies_to(m, empty), timeout=10)
                await asyncio.sleep(0.5)
            assert replies_to(explained, empty) and "ask a question in words" in explained["content"].lower()
            assert [s.source for s in emu.state.sent] == ["channel", "interaction_response", "interaction_response",
                                                          "channel"]
            assert typing(emu) == [emu.channel_id]  # "thanks!" was not even started on
            assert_apologised(failed_vote, caplog)
            assert response.type == 4 and response.data["flags"] & EPHEMERAL
            assert "vote is recorded" in response.data["content"]
            assert (summary.answers - before.answers, summary.up - before.up, summary.down - before.down) == (1, 1, 0)
            assert emu.violations == [] and emu.pings == []

    run(scenario)


def test_only_mentions_and_qa_channel_questions_are_answered(library: Newsdesk, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            qa = int(emu.find_channel("news")["id"])
            async with live(emu, library, qa_channels=[qa]):
                await emu.send_user_message(emu.channel_id, emu.alice, G8)
                await emu.send_user_message(qa, emu.alice, "just chatting about the G8 today")
                await emu.send_user_message(qa, emu.alice, G8)
                answer = await emu.wait_for_message(timeout=30)
                await asyncio.sleep(0.3)
            assert int(answer["channel_id"]) == qa and CRIMEA in answer["embeds"][0]["description"]
            assert len(emu.state.sent) == 1 and typing(emu) == [qa]  # the others were not even started
            assert emu.violations == [] and emu.pings == []

    run(scenario)


def test_configured_channels_limit_mentions_and_ask_alike(library: Newsdesk, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            news = int(emu.find_channel("news")["id"])
            async with live(emu, library, channels=[news]):
                await emu.send_user_message(emu.channel_id, emu.alice, f"<@{emu.application_id}> {G8}")
                elsewhere = await (await emu.send_command("ask", {"question": G8}, channel_id=emu.channel_id))
                inside = await emu.send_command("ask", {"question": G8}, channel_id=news)
                reply = (await inside.wait_followups(1, timeout=30))[0]
                await asyncio.sleep(0.3)
            assert elsewhere.type == 4 and elsewhere.data["flags"] & EPHEMERAL
            assert f"<#{news}>" in elsewhere.data["content"]
            assert CRIMEA in reply["embeds"][0]["description"]
            assert [m.source for m in emu.state.sent if m.channel_id == emu.channel_id] == ["interaction_response"]
            assert typing(emu) == []  # the mention outside was not taken up
            assert emu.violations == [] and emu.pings == []

    run(scenario)


def test_ask_defers_then_answers_and_explains_bad_questions(library: Newsdesk, tmp_path: Path) -> None:
    answer = library.ask(G8)

    async def scenario() -> None:
        async with emulator(interaction_deadline=3.0) as emu:
            async with live(emu, library):
                handle = await emu.send_command("ask", {"question": G8})
                deferred = await handle
                reply = (await handle.wait_followups(1, timeout=30))[0]
                blank = await (await emu.send_command("ask", {"question": "   "}))
                undated = await (await emu.send_command("ask", {"question": G8, "since": "June 2020"}))
                backwards = await (await emu.send_command("ask", {"question": G8, "since": "2021-01-01",
                                                                  "until": "2020-01-01"}))
                off_topic = await emu.send_command("ask", {"question": TUNGSTEN})
                await off_topic
                refusal = (await off_topic.wait_followups(1, timeout=30))[0]
            assert deferred.type == 5 and deferred.at - handle.record.created_at < 3.0
            assert reply["id"] == handle.original["id"]
            assert_verbatim(library, reply, answer)
            assert set(buttons(reply)) == {"👍", "👎"}
            assert blank.type == 4 and blank.data["flags"] & EPHEMERAL
            assert "ask a question in words" in blank.data["content"].lower()
            assert "Traceback" not in blank.data["content"]
            assert undated.data["flags"] & EPHEMERAL and "since must be a date like" in undated.data["content"]
            assert backwards.data["flags"] & EPHEMERAL and "after the end date" in backwards.data["content"]
            assert "doesn't answer" in refusal["content"] and refusal["embeds"] == []
            assert library.ask(TUNGSTEN).why in refusal["content"]
            assert emu.violations == [] and emu.pings == []

    run(scenario)


# ---------------------------------------------------------------------------------------- browsing


def footer(message: dict[str, Any]) -> str:
    return message["embeds"][0]["footer"]["text"]


def test_sources_pages_turn_only_for_the_invoker(library: Newsdesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            async with live(emu, library):
                handle = await emu.send_command("sources", user=emu.alice)
                await handle
                message = handle.original
                assert message is not None and footer(message).endswith("page 1/4")
                first_page = message["embeds"][0]["description"]
                turn = buttons(message)
                turned = await (await emu.send_component(int(message["id"]), turn["Next ▶"], user=emu.alice))
                page_two = emu.messages[int(message["id"])]
                assert footer(page_two).endswith("page 2/4")
                assert page_two["embeds"][0]["description"] != first_page
                other = await emu.send_component(int(message["id"]), turn["Next ▶"], user=emu.owner)
                refused = await other
                outlets = (await (await emu.send_autocomplete("sources", {"outlet": "wire"}, "outlet"))).data
                wire = await emu.send_command("sources", {"outlet": "Test Wire", "page": 3})
                await wire
                monkeypatch.setattr("bot.cogs.sources.render_sources_page", broken)
                failed_turn = await emu.send_component(int(message["id"]), turn["Next ▶"], user=emu.alice)
                await failed_turn
            assert turned.type == 7
            assert refused.type == 4 and refused.data["flags"] & EPHEMERAL
            assert "Only the person who ran /sources" in refused.data["content"]
            assert footer(emu.messages[int(message["id"])]).endswith("page 2/4")
            assert [c["value"] for c in outlets["choices"]] == ["Test Wire"]
            assert footer(wire.original).endswith("page 3/3")
            assert_apologised(failed_turn, caplog)
            assert "Harbour brief 00" in wire.original["embeds"][0]["description"]  # newest first
            assert emu.violations == [] and emu.pings == []

    run(scenario)


def test_source_autocomplete_and_article(library: Newsdesk, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            async with live(emu, library):
                everything = (await (await emu.send_autocomplete("source", {"article": ""}, "article"))).data
                some = (await (await emu.send_autocomplete("source", {"article": "brief 1"}, "article"))).data
                chosen = some["choices"][0]
                shown = await (await emu.send_command("source", {"article": chosen["value"]}))
                unknown = await (await emu.send_command("source", {"article": "no-such-article"}))
                long = (await (await emu.send_autocomplete("source", {"article": "dredging"}, "article"))).data
                long_shown = await (await emu.send_command("source", {"article": long["choices"][0]["value"]}))
            assert len(library.sources()) > 25 and len(everything["choices"]) == 25
            assert {c["name"] for c in some["choices"]} == {f"Harbour brief {i} (Test Wire)" for i in range(10, 20)}
            embed = shown.data["embeds"][0]
            assert embed["title"] == chosen["name"].split(" (")[0]
            assert "Crane number 1" in embed["description"]
            assert unknown.data["flags"] & EPHEMERAL and "No such article" in unknown.data["content"]
            assert len(LONG_ID) == 120 and long["choices"][0]["value"] == LONG_ID[:100]
            assert long_shown.data["embeds"][0]["title"] == "Dredging schedule"
            assert emu.violations == [] and emu.pings == []

    run(scenario)


# ---------------------------------------------------------------------------------------- moderators


def council(number: int) -> str:
    """An article of a few sentences, so that 150 of them take the embedder a while (40 took 0.83 s with the
    int8 encoder: under three heartbeats)."""
    sentences = " ".join(f"At session {s} the council of district {number} debated road repairs, school meals, "
                         f"library hours and the night bus timetable for item {s * number}." for s in range(8))
    return f"---\ntitle: District {number} council\n---\n{sentences}\n"


def test_reindex_is_for_moderators_and_keeps_the_gateway_beating(make_desk: Callable[..., Newsdesk],
                                                                 tmp_path: Path, store: str) -> None:
    desk = make_desk()
    desk.reindex()
    for number in range(150):
        (desk.settings.articles_path / f"council-{number:03d}.md").write_text(council(number), encoding="utf-8")
    generation = desk.store.current_name()
    # Milvus Lite's server process flushes on the same 2 cores while the re-index writes: the loop waited 0.89 s
    # for a CPU once in CI (nothing of ours runs on it: its longest stall measured 14 ms). Discord's interval is
    # 41.25 s; the test keeps 0.3 s where nothing else competes.
    interval = 0.3 if store == "file" else 1.0

    async def scenario() -> None:
        async with emulator(heartbeat_interval_ms=int(interval * 1000)) as emu:
            editor = emu.add_user("editor")
            emu.add_member_sync(emu.guild_id, editor, roles=[int(emu.add_role_sync(emu.guild_id, "Editors")["id"])])
            async with live(emu, desk, moderator_role="Editors"):
                refused = await (await emu.send_command("reindex", user=emu.alice, bypass_permissions=True))
                assert desk.store.current_name() == generation and len(desk.sources()) == 2
                began = time.monotonic()
                handle = await emu.send_command("reindex", user=emu.owner)
                deferred = await handle
                await handle.wait_original(lambda m: m["content"] != "Re-indexing: starting…", timeout=30)
                second = await (await emu.send_command("reindex", user=editor, bypass_permissions=True))
                question = await emu.send_command("ask", {"question": G8})
                final = await handle.wait_original(lambda m: m["content"].startswith("Re-index finished"),
                                                   timeout=120)
                ended = time.monotonic()
                meanwhile = (await question.wait_followups(1, timeout=30))[0]
            assert refused.type == 4 and refused.data["flags"] & EPHEMERAL
            assert "Only moderators" in refused.data["content"]
            assert deferred.type == 5
            assert "added 150" in final["content"] and len(desk.sources()) == 152
            assert len(handle.followups) == 1 and handle.followups[0]["id"] == final["id"]
            status = [s.source for s in emu.state.sent if s.message_id == int(final["id"])]
            assert status[:2] == ["interaction_response", "deferred_fill"] and set(status[2:]) == {"edit"}
            assert second.data["flags"] & EPHEMERAL and "already running" in second.data["content"]
            assert meanwhile["embeds"] and CRIMEA in meanwhile["embeds"][0]["description"], meanwhile["content"]
            during = [b for b in emu.heartbeats if began <= b.at <= ended]
            assert ended - began > 3 * interval and len(during) >= 3
            assert all(b.gap < interval * 1.5 for b in emu.heartbeats[1:]), [(round(b.at - began, 2), round(b.gap, 2)) for b in emu.heartbeats if b.gap >= interval * 1.5]
            assert emu.violations == [] and emu.pings == []

    run(scenario, 150)


LIGHTHOUSE = ("---\ntitle: Skerry Point keeper retires\noutlet: Coastal Times\npublished: 2022-05-06\n---\n"
              "Margaret Olsen, the last keeper of the Skerry Point lighthouse, retired on Friday after 41 years "
              "of tending its lamp.\nThe lamp will be run automatically from now on.\n")


def test_add_article_saves_safely_indexes_and_answers(make_desk: Callable[..., Newsdesk], tmp_path: Path) -> None:
    desk = make_desk(max_file_bytes=2000)
    desk.reindex()
    articles = desk.settings.articles_path

    async def add(emu: Emulator, filename: str, data: bytes) -> InteractionHandle:
        attachment = emu.add_attachment(Path(filename).name, data)
        attachment["filename"] = filename  # as the client names it; the CDN URL stays fetchable
        handle = await emu.send_command("add-article", {"file": attachment}, user=emu.owner)
        await handle
        return handle

    async def scenario() -> None:
        async with emulator() as emu:
            async with live(emu, desk):
                too_big = await add(emu, "big.md", LIGHTHOUSE.encode() * 10)
                picture = await add(emu, "photo.png", b"\x89PNG")
                added = await add(emu, "lighthouse.md", LIGHTHOUSE.encode())
                done = (await added.wait_followups(2, timeout=60))[-1]
                ask = await emu.send_command("ask", {"question": "Who kept the Skerry Point lighthouse?"})
                answer = (await ask.wait_followups(1, timeout=30))[0]
                tricky = await add(emu, "../../lighthouse.md", LIGHTHOUSE.replace("Skerry", "Evil").encode())
                renamed = (await tricky.wait_followups(2, timeout=60))[-1]
                binary = await add(emu, "scan.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
                not_text = (await binary.wait_followups(1, timeout=30))[0]
                clash = await add(emu, "clash.md", LIGHTHOUSE.replace("---\ntitle", "---\nid: lighthouse\ntitle")
                                  .replace("41 years", "40 years").encode())
                taken = (await clash.wait_followups(1, timeout=30))[-1]
                copy = await add(emu, "copy.md", LIGHTHOUSE.encode())
                same = (await copy.wait_followups(1, timeout=30))[-1]
            for refused in (too_big.record.ack, picture.record.ack):
                assert refused and refused.type == 4 and refused.data["flags"] & EPHEMERAL
            assert "the limit is 2,000" in too_big.record.ack.data["content"]
            assert "`photo.png` is not an accepted type" in picture.record.ack.data["content"]
            assert "Added 1 article(s): Skerry Point keeper retires (lighthouse)" in done["content"]
            assert "Margaret Olsen, the last keeper of the Skerry" in answer["embeds"][0]["description"]
            assert "Added 1 article(s): Evil Point keeper retires (lighthouse-1)" in renamed["content"]
            assert desk.source("lighthouse-1")[1].title == "Evil Point keeper retires"
            assert sorted(p.name for p in articles.iterdir()) == ["lighthouse-1.md", "lighthouse.md"]
            assert (articles / "lighthouse.md").read_text(encoding="utf-8") == LIGHTHOUSE
            assert not (tmp_path / "lighthouse.md").exists() and not (tmp_path.parent / "lighthouse.md").exists()
            assert "Refused `scan.md`: binary file" in not_text["content"]
            assert "Refused `clash.md`: id 'lighthouse' is already indexed" in taken["content"]
            assert "Refused `copy.md`: the same text is already indexed as 'lighthouse'" in same["content"]
            assert desk.source("lighthouse")[1].title == "Skerry Point keeper retires"
            assert {"scan", "clash", "copy"}.isdisjoint(s.article_id for s in desk.sources())
            assert emu.violations == [] and emu.pings == []

    run(scenario, 120)


# ---------------------------------------------------------------------------------------- safety


def forbids_every_mention(allowed: dict[str, Any] | None) -> bool:
    return allowed is not None and not any(allowed.get(k) for k in ("parse", "users", "roles", "replied_user"))


def test_mentions_in_articles_and_questions_never_ping(make_desk: Callable[..., Newsdesk], tmp_path: Path) -> None:
    desk = make_desk()

    async def scenario() -> None:
        async with emulator() as emu:
            role, alice = emu.role_id("Admin"), emu.alice["id"]
            trap = (f"---\ntitle: '@everyone <@&{role}> the harbour closes'\noutlet: '@here news'\n---\n"
                    f"@everyone: the harbour master <@&{role}> announced that the harbour closes for dredging "
                    f"in June. <@{alice}> and @here were told first.\n")
            (desk.settings.articles_path / "trap.md").parent.mkdir(parents=True, exist_ok=True)
            (desk.settings.articles_path / "trap.md").write_text(trap, encoding="utf-8")
            await asyncio.to_thread(desk.reindex)
            question = f"<@&{role}> @everyone @here <@{alice}> when does the harbour close for dredging?"
            async with live(emu, desk):
                await emu.send_user_message(emu.channel_id, emu.owner, f"<@{emu.application_id}> {question}")
                reply = await emu.wait_for_message(emu.channel_id, timeout=30)
                asked = await emu.send_command("ask", {"question": question})
                await asked.wait_followups(1, timeout=30)
                await (await emu.send_command("source", {"article": "trap"}))
                await (await emu.send_command("sources"))
                for name in ("status", "help", "reindex"):
                    await (await emu.send_command(name, user=emu.alice, bypass_permissions=True))
            assert "harbour master" in reply["embeds"][0]["description"]
            assert emu.pings == []
            assert len(emu.state.sent) >= 7
            thinking = {s.message_id for s in emu.state.sent if s.source == "deferred_fill"}
            for sent in emu.state.sent:
                message = emu.messages[sent.message_id]
                if not (sent.source == "interaction_response" and sent.message_id in thinking):
                    assert forbids_every_mention(sent.allowed_mentions), (sent.source, sent.allowed_mentions)
                assert rules.parse_mentions(message["content"]) == rules.parse_mentions("")
                assert not message["mention_everyone"] and not message["mention_roles"] and not message["mentions"]
            assert emu.violations == []

    run(scenario)


def test_rate_limits_and_gateway_drops_are_survived(library: Newsdesk, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            async with live(emu, library):
                emu.fail_next("POST", r"/channels/\d+/messages", status=429, retry_after=0.3)
                await emu.send_user_message(emu.channel_id, emu.alice, f"<@{emu.application_id}> {G8}")
                reply = await emu.wait_for_message(emu.channel_id, timeout=30)
                webhook = rf"/webhooks/{emu.application_id}/[^/]+"
                emu.fail_next("POST", webhook, status=429, retry_after=0.3)
                handle = await emu.send_command("ask", {"question": G8})
                followup = (await handle.wait_followups(1, timeout=30))[0]
                await emu.drop_gateway()
                missed = await emu.send_user_message(emu.channel_id, emu.alice, f"<@{emu.application_id}> {G8}")
                resumed = await emu.wait_for_message(emu.channel_id, lambda m: replies_to(m, missed), timeout=30)
            posts = [c.status for c in emu.calls if c.method == "POST" and c.route == "/channels/{channel_id}/messages"]
            hooks = [c.status for c in emu.calls if c.method == "POST" and re.fullmatch(webhook, c.path)]
            assert posts == [429, 200, 200] and hooks == [429, 200]
            assert len(emu.identifies) == 1 and len(emu.state.resumes) == 1
            assert CRIMEA in resumed["embeds"][0]["description"]
            assert CRIMEA in reply["embeds"][0]["description"] and CRIMEA in followup["embeds"][0]["description"]
            assert emu.violations == []

    run(scenario)


def maximal_answer() -> Answer:
    """More of everything than fits: 12 articles, 10,000-character quotes full of markdown, long names."""
    text = ("*Breaking* _news_ | `code` ~~struck~~ > quoted @everyone <@&123456789012345678> " * 40 + "end. ") * 3
    quotes = [Quote(article_id=f"article-{i:02d}-" + "x" * 100, title="T" * 300, label="L" * 300, outlet="O" * 300,
                    url=f"https://example.com/{i}", text=text, start=0, end=len(text), score=0.9) for i in range(12)]
    return Answer(question="Q? " * 200, abstained=False, confidence=0.9, quotes=quotes, generation="g")


def test_the_longest_answers_fit_discord_limits(library: Newsdesk, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    roomy = Newsdesk(library.settings.updated(max_quotes=10, max_quote_chars=10_000, max_excerpt_sentences=6),
                     embedder=library.embedder)

    async def scenario() -> None:
        async with emulator() as emu:
            async with live(emu, roomy) as bot:
                real = await emu.send_command("ask", {"question": G8})
                await real.wait_followups(1, timeout=30)

                async def maximal(*args: object) -> Answer:
                    return maximal_answer()

                monkeypatch.setattr(bot.get_cog("AskCog"), "answer", maximal)
                question = await emu.send_user_message(emu.channel_id, emu.alice,
                                                       f"<@{emu.application_id}> anything?")
                reply = await emu.wait_for_message(emu.channel_id, lambda m: replies_to(m, question), timeout=30)
                synthetic = await emu.send_command("ask", {"question": "anything?"})
                followup = (await synthetic.wait_followups(1, timeout=30))[0]
            assert len(real.followups[0]["embeds"]) >= 2
            for message in (reply, followup):
                assert message["embeds"] and "(more: /source" in message["embeds"][-1]["description"]
            assert emu.violations == [] and emu.pings == []

    run(scenario)


def test_an_answer_about_the_coverage_shows_sixteen_articles_in_one_message(library: Newsdesk,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    outlets = ["The Independent - Life and Style", "TechCrunch", "The Verge", "Cnbc | World Business News Leader"]
    texts = [f"Report {i} says the court heard testimony on day {i} of the trial. " * 3 for i in range(16)]
    coverage = Answer(question="Between the TechCrunch report and The Verge report, did the coverage change?",
                      abstained=False, confidence=0.7, generation="g", arrangement="outlets", quotes=[
                          Quote(article_id=f"mh-{i:012x}", title=f"A headline about the trial, part {i} " * 3,
                                label="L", outlet=outlets[i // 4], url=f"https://example.com/{i}", text=text,
                                start=0, end=len(text), score=0.6) for i, text in enumerate(texts)])

    async def scenario() -> None:
        async with emulator() as emu:
            async with live(emu, library) as bot:
                async def answer(*args: object) -> Answer:
                    return coverage

                monkeypatch.setattr(bot.get_cog("AskCog"), "answer", answer)
                handle = await emu.send_command("ask", {"question": coverage.question})
                embeds = (await handle.wait_followups(1, timeout=30))[0]["embeds"]
            shown = " ".join(embed["description"] for embed in embeds)
            assert len(embeds) <= 10 and "(more: /source" not in shown
            assert all(f"Report {i} says" in shown for i in range(16))
            assert emu.violations == [] and emu.pings == []

    run(scenario)


def test_unexpected_errors_are_logged_and_apologised_for(library: Newsdesk, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            async with live(emu, library):
                emu.fail_next("POST", r"/channels/\d+/messages", status=403)
                unsent = await emu.send_user_message(emu.channel_id, emu.alice, f"<@{emu.application_id}> {G8}")
                failed_send = await emu.wait_for_message(emu.channel_id, lambda m: replies_to(m, unsent), timeout=30)
                monkeypatch.setattr(library, "status", broken)
                monkeypatch.setattr(library, "ask", broken)
                status = await emu.send_command("status")
                failed_status = await status
                ask = await emu.send_command("ask", {"question": G8})
                failed_ask = (await ask.wait_followups(1, timeout=30))[0]
                await emu.send_user_message(emu.channel_id, emu.alice, f"<@{emu.application_id}> {G8}")
                failed_mention = await emu.wait_for_message(emu.channel_id, timeout=30)
                with library.store.lock():  # e.g. `newsdesk index` running in a shell
                    busy = await emu.send_command("reindex", user=emu.owner)
                    await busy.wait_original(lambda m: m["content"].startswith("Re-index failed"), timeout=30)
                monkeypatch.setattr(library, "reindex", broken)
                crashed = await emu.send_command("reindex", user=emu.owner)
                apology = (await crashed.wait_followups(2, timeout=30))[-1]
            assert failed_status.data["flags"] & EPHEMERAL
            assert f"answering message {unsent['id']} failed" in caplog.text
            shown_texts = (failed_send["content"], failed_status.data["content"], failed_ask["content"],
                           failed_mention["content"])
            for shown in shown_texts:
                assert shown.startswith("Sorry, something went wrong")
                assert SECRET not in shown and "Traceback" not in shown and "RuntimeError" not in shown
            assert_apologised(status, caplog)
            assert "Re-index failed: a re-index is already running" in busy.original["content"]
            assert len(busy.followups) == 1
            assert crashed.original["content"] == "Re-index failed: unexpected error (logged)"
            assert apology["content"].startswith("Sorry, something went wrong") and SECRET not in apology["content"]
            assert [r.exc_info for r in caplog.records if f"interaction {crashed.id}" in r.getMessage()]
            assert [r.exc_info for r in caplog.records if f"interaction {ask.id}" in r.getMessage()]
            assert emu.violations == [] and emu.pings == []

    run(scenario)


def test_an_operators_problem_is_logged_and_never_shown_in_the_channel(
        tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture) -> None:
    """No index (an operator's matter): users learn answers are unavailable, never the server's path."""
    empty = Newsdesk(load_settings(data_dir=tmp_path / "server-data"), embedder=embedder)

    async def scenario() -> None:
        async with emulator() as emu:
            async with live(emu, empty):
                question = await emu.send_user_message(emu.channel_id, emu.alice, f"<@{emu.application_id}> {G8}")
                mention = await emu.wait_for_message(emu.channel_id, lambda m: replies_to(m, question), timeout=30)
                ask = await emu.send_command("ask", {"question": G8})
                slash = (await ask.wait_followups(1, timeout=30))[0]
            for shown in (mention["content"], slash["content"]):
                assert shown == UNAVAILABLE and "server-data" not in shown
            assert f"no index in {tmp_path / 'server-data'}" in caplog.text
            assert emu.violations == []

    run(scenario)


def test_answers_in_a_thread_and_spaces_out_questions(library: Newsdesk, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with emulator() as emu:
            async with live(emu, library, answer_in_thread=True,
                            cooldown_seconds=60):
                question = await emu.send_user_message(emu.channel_id, emu.alice, f"<@{emu.application_id}> {G8}")
                answer = await emu.wait_for_message(int(question["id"]), timeout=30)
                again = await emu.send_user_message(emu.channel_id, emu.alice, f"<@{emu.application_id}> {G8}")
                wait = await emu.wait_for_message(emu.channel_id, lambda m: replies_to(m, again), timeout=10)
                slash = await (await emu.send_command("ask", {"question": G8}, user=emu.alice))
                empty = await emu.send_user_message(emu.channel_id, emu.owner, f"<@{emu.application_id}>  ")
                explained = await emu.wait_for_message(emu.channel_id, lambda m: replies_to(m, empty), timeout=10)
                emu.fail_next("POST", r"/channels/\d+/messages/\d+/threads", status=403)
                inline = await emu.send_user_message(emu.channel_id, emu.owner, f"<@{emu.application_id}> {G8}")
                answered_inline = await emu.wait_for_message(emu.channel_id, lambda m: replies_to(m, inline),
                                                             timeout=30)
            assert replies_to(explained, empty) and "ask a question in words" in explained["content"].lower()
            assert replies_to(answered_inline, inline) and CRIMEA in answered_inline["embeds"][0]["description"]
            assert list(emu.state.threads) == [int(question["id"])]
            thread = emu.state.threads[int(question["id"])]
            assert thread["name"] == G8 and CRIMEA in answer["embeds"][0]["description"]
            assert replies_to(wait, again) and wait["content"].startswith("Please wait")
            assert slash.type == 4 and slash.data["flags"] & EPHEMERAL and "Please wait" in slash.data["content"]
            assert emu.violations == [] and emu.pings == []

    run(scenario)


def test_sync_command_registers_the_commands_for_one_guild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """`newsdesk sync --guild ID` as run from a shell, in a thread with its own event loop."""
    monkeypatch.setenv("NEWSDESK_DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        async with emulator(token=TOKEN) as emu:
            await asyncio.to_thread(cli.sync, guild=emu.guild_id)
            assert {c["name"] for c in emu.state.commands[emu.guild_id].values()} == COMMANDS
            assert emu.state.commands.get(None, {}) == {} and emu.violations == []
            no_token_anywhere(emu, caplog)

    run(scenario)


# ------------------------------------------------------------------------------ questions about the coverage


def test_compare_sets_outlets_side_by_side_within_limits(coverage_desk: Newsdesk) -> None:
    expected = coverage_desk.compare("the Port Avery bridge", ["Harbour Daily", "Valley Times", "The Week"])

    async def scenario() -> None:
        async with emulator(interaction_deadline=3.0) as emu:
            async with live(emu, coverage_desk):
                handle = await emu.send_command("compare", {"topic": "the Port Avery bridge",
                                                            "outlets": "Harbour Daily, Valley Times, The Week"})
                deferred = await handle
                reply = (await handle.wait_followups(1, timeout=30))[0]
                bad = await (await emu.send_command("compare", {"topic": "bridge", "since": "soon"}))
            assert deferred.type == 5
            assert "No coverage found: The Week" in reply["content"]
            titles = [embed["title"] for embed in reply["embeds"]]
            assert titles[0].startswith("Harbour Daily: ") and any(t.startswith("Valley Times: ") for t in titles)
            shown = [q for embed in reply["embeds"] for q in unrender(embed["description"])]
            assert shown == [q.text for side in expected.covered for q in side.quotes]
            assert bad.data["flags"] & EPHEMERAL and "since must be a date like" in bad.data["content"]
            assert emu.violations == [] and emu.pings == []

    run(scenario)


def test_timeline_answers_in_publication_order_with_a_chart(coverage_desk: Newsdesk) -> None:
    expected = coverage_desk.timeline("the Port Avery harbour bridge closure")

    async def scenario() -> None:
        async with emulator(interaction_deadline=3.0) as emu:
            async with live(emu, coverage_desk):
                handle = await emu.send_command("timeline", {"topic": "the Port Avery harbour bridge closure"})
                await handle
                reply = (await handle.wait_followups(1, timeout=30))[0]
            titles = [embed["title"] for embed in reply["embeds"]]
            assert "earliest report" in titles[0] and all("earliest" not in t for t in titles[1:])
            footers = [embed["footer"]["text"] for embed in reply["embeds"]]
            dates = [re.search(r"\d{4}-\d{2}-\d{2}", f).group(0) for f in footers]  # type: ignore[union-attr]
            assert dates == sorted(dates) and len(dates) == sum(len(p.quotes) for p in expected.periods)
            attachment = reply["attachments"][0]
            assert attachment["filename"] == "timeline.png" and attachment["size"] > 1000
            assert emu.violations == [] and emu.pings == []

    run(scenario)
