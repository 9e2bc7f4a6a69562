"""`newsdesk chat`: one session over the index, the model loaded once, filters kept between questions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rich.console import Console

from index.errors import NewsdeskError
from index.service import Newsdesk, parse_day
from index.terminal import format_answer, format_source, format_sources, render_answer

HELP = """Ask a question, or:
  /outlet NAME   only this outlet (again to add one; /outlet alone: every outlet)
  /since DATE    only articles published on/after YYYY-MM-DD (/since alone: no limit)
  /until DATE    only articles published on/before YYYY-MM-DD (/until alone: no limit)
  /sources       the indexed articles (within /outlet)
  /source ID     one article
  /help          this list
  /quit          leave (or Ctrl-D)"""


@dataclass
class Session:
    """What a chat remembers between questions."""

    desk: Newsdesk
    out: Console
    outlets: list[str] = field(default_factory=list)
    since: date | None = None
    until: date | None = None

    def handle(self, line: str) -> bool:
        """One line typed; False when the session should end."""
        line = line.strip()
        if not line:
            return True
        try:
            if line.startswith("/"):
                return self._command(*line[1:].partition(" ")[::2])
            answer = self.desk.ask(line, self.outlets, self.since, self.until)
            self.out.print(render_answer(answer, self.desk.prompts) if self.out.is_terminal
                           else format_answer(answer, self.desk.prompts), markup=False, highlight=False)
        except NewsdeskError as exc:
            self.out.print(f"error: {exc}", markup=False, highlight=False)
        return True

    def _command(self, name: str, argument: str) -> bool:
        argument = argument.strip()
        if name in ("quit", "exit"):
            return False
        if name == "outlet":
            self.outlets = [*self.outlets, argument] if argument else []
            self._say(f"outlets: {', '.join(self.outlets) or 'every outlet'}")
        elif name in ("since", "until"):
            setattr(self, name, parse_day(argument, name))
            self._say(f"{name}: {getattr(self, name) or 'no limit'}")
        elif name == "sources":
            self._say(format_sources([s for outlet in self.outlets or [None] for s in self.desk.sources(outlet)]))
        elif name == "source" and argument:
            self._say(format_source(*self.desk.source(argument)))
        elif name == "help":
            self._say(HELP)
        else:
            self._say(f"unknown command /{name}; /help lists them")
        return True

    def _say(self, text: str) -> None:
        self.out.print(text, markup=False, highlight=False)


def run(desk: Newsdesk, out: Console, read: Callable[[str], str] = input) -> None:
    """Read lines until /quit or end of input; arrow keys and history come from readline where it exists."""
    history = desk.settings.data_dir / "chat_history"
    _load_history(history)
    session = Session(desk, out)
    out.print(f"Newsdesk chat over {desk.status().articles} articles. /help lists the commands.", highlight=False)
    try:
        while True:
            try:
                line = read("? " if out.is_terminal else "")
            except EOFError:
                break
            if not session.handle(line):
                break
    finally:
        _save_history(history)


def _load_history(path: Path) -> None:
    try:
        import readline

        if path.exists():
            readline.read_history_file(path)
    except (ImportError, OSError):
        return


def _save_history(path: Path) -> None:
    try:
        import readline

        path.parent.mkdir(parents=True, exist_ok=True)
        readline.set_history_length(1000)
        readline.write_history_file(path)
    except (ImportError, OSError):
        return
