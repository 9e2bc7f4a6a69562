"""Many questions at once through the real bot (discord.py) against the loopback Discord emulator:
questions/s, latency from send to answer, errors, and how late the gateway heartbeats got meanwhile.

    python benchmarks/bot_throughput.py --data-dir DIR [--questions FILE] [--n 50] [--via command|mention]
                                        [--heartbeat-ms 300] [--timeout 300] [--profile FILE]

`burst_loop_cpu_ms` is the CPU time of the bot's event-loop thread in the first second after the questions
are sent (time.thread_time: the answering threads and waits for the GIL are not in it); `--profile` writes a
cProfile of that thread over that second, in the same CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import pstats
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from discord_emulator import loopback_only, running_client  # noqa: E402
from discord_emulator.harness import patched_discord  # noqa: E402
from discord_emulator.server import Emulator, start_emulator  # noqa: E402
from discord_emulator.state import RestCall  # noqa: E402

from benchmarks.query_latency import QUESTIONS  # noqa: E402
from benchmarks.results import percentiles, write  # noqa: E402
from bot.app import NewsdeskBot  # noqa: E402
from bot.replies import APOLOGY  # noqa: E402
from bot.settings import BotSettings  # noqa: E402
from index.evaluate import corpus_desk, load_questions  # noqa: E402
from index.service import Newsdesk  # noqa: E402


class Remote:
    """The emulator on its own thread and event loop, as Discord is elsewhere: the bot's loop, whose
    heartbeats are measured, then carries only the bot's work."""

    def __init__(self, **config: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.emu: Emulator = self.call(start_emulator(**config))

    def call(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    def close(self) -> None:
        self.call(self.emu.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


async def ask(remote: Remote, question: str, via: str) -> tuple[float, str]:
    """Alice asks; when she did, and the key answers() files the bot's answer under."""
    emu = remote.emu
    sent = time.monotonic()
    if via == "command":
        handle = await remote.run(emu.send_command("ask", {"question": question}))
        return sent, f"/webhooks/{emu.application_id}/{handle.token}"
    message = await remote.run(emu.send_user_message(emu.channel_id, emu.alice, f"<@{emu.application_id}> {question}"))
    return sent, str(message["id"])


T = TypeVar("T")


def answers(emu: Emulator) -> dict[str, RestCall]:
    """The first accepted POST answering each question: an /ask followup by its webhook path, a reply
    to a mention by the id of the message it replies to. RestCall.at is when it reached the emulator."""
    found: dict[str, RestCall] = {}
    for call in emu.calls:
        if call.method != "POST" or not 200 <= call.status < 300:
            continue
        if call.route == "/webhooks/{app_id}/{token}":
            found.setdefault(call.path, call)
        elif call.route == "/channels/{channel_id}/messages":
            found.setdefault(str(((call.json or {}).get("message_reference") or {}).get("message_id")), call)
    return found


BURST_SECONDS = 1.0


def watch_loop(profile: cProfile.Profile | None) -> Callable[[], float]:
    """Start counting the calling thread's CPU time (and profiling, if given); the returned function reads
    the count of the first BURST_SECONDS."""
    began, spent = time.thread_time(), []
    if profile:
        profile.enable()

    def stop() -> None:
        spent.append(time.thread_time() - began)
        if profile:
            profile.disable()

    asyncio.get_running_loop().call_later(BURST_SECONDS, stop)
    return lambda: round(spent[0] * 1000, 1) if spent else float("nan")


async def run(desk: Newsdesk, questions: list[str], via: str, heartbeat_ms: int, timeout: float,
              profile: cProfile.Profile | None = None) -> dict[str, Any]:
    settings = BotSettings(cooldown_seconds=0)
    remote = Remote(heartbeat_interval_ms=heartbeat_ms)
    emu = remote.emu
    try:
        with patched_discord(emu), tempfile.TemporaryDirectory() as scratch:
            scratch_desk = Newsdesk(desk.settings.updated(feedback_path=Path(scratch) / "feedback.sqlite"),
                                    embedder=desk.embedder)
            bot = NewsdeskBot(scratch_desk, settings, guild_ready_timeout=0.1)
            async with running_client(emu, bot):
                await bot.tree.sync()
                began = time.monotonic()
                loop_cpu = watch_loop(profile)
                asked = await asyncio.gather(*(ask(remote, question, via) for question in questions))
                keys = {key for _, key in asked}
                with contextlib.suppress(TimeoutError):
                    await remote.run(emu.wait_until(lambda: keys <= answers(emu).keys(), timeout, "every answer"))
                ended = time.monotonic()
    finally:
        remote.close()
    found = answers(emu)
    replies = [(sent, found[key].at, found[key].json or {}) for sent, key in asked if key in found]
    apologies = sum(1 for _, _, body in replies if body.get("content") == APOLOGY)
    abstained = sum(1 for _, _, body in replies if not body.get("embeds")) - apologies  # no quotes shown
    unanswered = len(questions) - len(replies)
    seconds = (ended if unanswered else max(at for _, at, _ in replies)) - began  # to the last answer
    latencies = [(at - sent) * 1000 for sent, at, _ in replies]
    gaps = [beat.gap for beat in emu.heartbeats if began < beat.at <= ended]
    longest = max(gaps, default=0.0)
    return {"questions": len(questions), "via": via, "max_concurrent": settings.max_concurrent,
            "seconds": round(seconds, 2), "questions_per_s": round(len(replies) / seconds, 2),
            "latency_ms": percentiles(latencies) if latencies else None,
            "answered": len(replies) - apologies, "abstained": abstained,
            "errors": unanswered + apologies + len(emu.violations), "unanswered": unanswered, "apologies": apologies,
            "violations": dict(Counter(violation.rule for violation in emu.violations)),
            "burst_loop_cpu_ms": loop_cpu(),
            "heartbeat": {"interval_ms": heartbeat_ms, "beats": len(gaps), "max_gap_ms": round(longest * 1000, 1),
                          "max_gap_over_interval": round(longest * 1000 / heartbeat_ms, 2)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--via", choices=("command", "mention"), default="command",
                        help="/ask interactions, or messages mentioning the bot")
    parser.add_argument("--heartbeat-ms", type=int, default=300, help="gateway heartbeat interval the emulator sets")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for every answer")
    parser.add_argument("--profile", type=Path, help="write a cProfile (pstats) of the bot's event loop over the "
                        "burst's first second, in CPU time")
    args = parser.parse_args()
    profile = cProfile.Profile(time.thread_time) if args.profile else None
    questions = [q.question for q in load_questions(args.questions, args.n)]
    with loopback_only():
        desk = corpus_desk(args.data_dir)
        desk.ask("warm up")
        figures = asyncio.run(run(desk, questions, args.via, args.heartbeat_ms, args.timeout, profile))
    figures["chunks"] = desk.generation().manifest.chunks
    print(json.dumps(figures, indent=2))
    if profile and args.profile:
        profile.dump_stats(args.profile)
        pstats.Stats(str(args.profile)).sort_stats("cumulative").print_stats(25)
    write(f"bot_throughput_{args.via}_{figures['chunks']}", figures)


if __name__ == "__main__":
    main()
