"""`newsdesk` commands; every failure ends in one line and a non-zero exit code.

Front ends add their commands through the `newsdesk.commands` entry point (a function taking the typer
app, as simonw/llm's `register_commands`), so `newsdesk` and `python -m index` are the same program and
the core never imports them.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from typer._click.core import Context
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from index import chat as chat_session
from index.chart import timeline_chart
from index.config import load_settings
from index.errors import NewsdeskError
from index.models import IndexReport
from index.retrieve import Mode
from index.service import Newsdesk
from index.terminal import (
    format_answer,
    format_comparison,
    format_copy_groups,
    format_source,
    format_sources,
    format_timeline,
    render_answer,
)


class ConventionalCommand(TyperCommand):
    """Help as click-based tools print it: `QUESTION` (not `{question}`) in the usage line, and no `<bool>`
    beside a flag, which takes no value (typer 0.29 prints both its own way)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument) and param.metavar is None and param.name:
                param.metavar = param.name.upper()
            elif getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _flag(super().get_help_option(ctx))

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.display_name_raw + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
        return pieces


class ConventionalGroup(TyperGroup):
    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _flag(super().get_help_option(ctx))


def _flag(option: TyperOption | None) -> TyperOption | None:
    if option is not None and option.metavar is None:
        option.metavar = ""
    return option


class NewsdeskApp(typer.Typer):
    """Every command, the plugins' too, gets the conventional help."""

    def command(self, *args: Any, **kwargs: Any) -> Any:  # typer's own signature, passed through
        kwargs.setdefault("cls", ConventionalCommand)
        return super().command(*args, **kwargs)


app = NewsdeskApp(cls=ConventionalGroup, add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Newsdesk: answers about the news coverage, quoted word for word.")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def open_desk() -> Newsdesk:
    return Newsdesk.open()


def _ready_desk() -> Newsdesk:
    """The desk, its index built from seeds/ first on a fresh checkout."""
    desk = open_desk()
    if not desk.has_index():
        err.print("No index yet: building one from seeds/ ...")
        with progress_bar() as update:
            desk.ensure_index(update)
    return desk


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """One bar per stage (reading files, loading model, chunking and sentences per article, embedding texts),
    on stderr so --json stays clean."""
    with Progress(TextColumn("{task.description:<13}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=False) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from exc


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in quotes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer model as JSON.")] = False,
    outlet: Annotated[list[str], typer.Option(metavar="OUTLET", help="Only these outlets (repeatable).")] = [],  # noqa: B006
    since: Annotated[str | None, typer.Option(metavar="YYYY-MM-DD", help="Only articles published on/after YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(metavar="YYYY-MM-DD", help="Only articles published on/before YYYY-MM-DD.")] = None,
    k: Annotated[int | None, typer.Option("-k", metavar="N", min=1, max=10, help="At most this many quotes.")] = None,
    mode: Annotated[Mode | None, typer.Option(metavar="MODE", help="Retrieval: keyword, dense, hybrid, or rerank (hybrid, then "
                                              "passages lifted by their best sentence); default NEWSDESK_MODE.")
                    ] = None,
) -> None:
    """Answer a question with quoted excerpts (builds the index from seeds/ on first use)."""
    desk = _ready_desk()
    answer = desk.ask(question, outlet, _date(since), _date(until), k, mode)
    if as_json:
        out.print_json(answer.model_dump_json())
    else:
        out.print(render_answer(answer, desk.prompts) if out.is_terminal else format_answer(answer, desk.prompts),
                  markup=False, highlight=False)


Outlets = Annotated[list[str], typer.Option("--outlet", metavar="OUTLET", help="An outlet to compare (repeatable); "
                                            "default: the outlets of the closest coverage.")]
Since = Annotated[str | None, typer.Option(metavar="YYYY-MM-DD", help="Only articles published on/after YYYY-MM-DD.")]
Until = Annotated[str | None, typer.Option(metavar="YYYY-MM-DD", help="Only articles published on/before YYYY-MM-DD.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result model as JSON.")]


@app.command()
def compare(topic: Annotated[str, typer.Argument(help="What to compare the coverage of, in quotes.")],
            outlet: Outlets = [], since: Since = None, until: Until = None,  # noqa: B006
            as_json: AsJson = False) -> None:
    """Each outlet's closest excerpts on a topic, side by side; outlets with nothing on it say so."""
    comparison = _ready_desk().compare(topic, outlet, _date(since), _date(until))
    if as_json:
        out.print_json(comparison.model_dump_json())
    else:
        out.print(format_comparison(comparison), markup=False, highlight=False)


@app.command()
def timeline(topic: Annotated[str, typer.Argument(help="The story to follow, in quotes.")],
             since: Since = None, until: Until = None, as_json: AsJson = False,
             chart: Annotated[Path | None, typer.Option(metavar="FILE", help="Also write a PNG chart of the "
                                                        "articles per outlet per day or week.")] = None) -> None:
    """Dated excerpts on a topic in publication order, the earliest report first."""
    result = _ready_desk().timeline(topic, _date(since), _date(until))
    if as_json:
        out.print_json(result.model_dump_json())
    else:
        out.print(format_timeline(result), markup=False, highlight=False)
    if chart is not None and not result.abstained:
        chart.write_bytes(timeline_chart(result))
        err.print(f"chart written to {chart}", markup=False, highlight=False)


@app.command()
def chat() -> None:
    """Ask one question after another over the index: the model loads once; /help lists filters and commands."""
    desk = _ready_desk()
    desk.warm_up()
    chat_session.run(desk, out)


@app.command("index")
def index_command(
    paths: Annotated[list[Path], typer.Argument(help="Extra files or folders to index.")] = [],  # noqa: B006
    rebuild: Annotated[bool, typer.Option(help="Start over: re-embed everything.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every added, changed, removed and "
                                          "duplicate article, not only the counts.")] = False,
) -> None:
    """(Re)index seeds/, the articles folder and PATHS; exits 1 if a file failed."""
    desk = open_desk()
    with progress_bar() as update:
        report = desk.reindex(paths, rebuild=rebuild, progress=update)
    _print_report(report, as_json, verbose)
    raise typer.Exit(1 if report.failed else 0)


def _print_report(report: IndexReport, as_json: bool, verbose: bool) -> None:
    if as_json:
        out.print_json(report.model_dump_json())
    else:
        out.print(report.summary(verbose), markup=False, highlight=False)


@app.command()
def roots(forget: Annotated[Path | None, typer.Option(help="Stop indexing this remembered path.")] = None) -> None:
    """The paths `newsdesk index PATH` remembered (indexed again at every re-index); --forget one."""
    desk = open_desk()
    left = desk.forget_root(forget) if forget else desk.remembered_roots()
    if forget:
        out.print(f"forgotten: {forget.expanduser().resolve()} (its articles leave at the next `newsdesk index`)",
                  markup=False, highlight=False)
    for path in left:
        out.print(f"{path}{'' if path.exists() else '  (gone)'}", markup=False, highlight=False)
    if not left:
        out.print("no remembered paths (seeds and the articles folder are always indexed)")


@app.command()
def sources(
    outlet: Annotated[str | None, typer.Option(help="Only this outlet.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    show_copies: Annotated[bool, typer.Option("--copies", help="List the groups of wire copies instead: "
                                              "articles with the same or nearly the same text.")] = False,
) -> None:
    """List indexed articles: id, outlet, date, title, chunks."""
    if show_copies:
        groups = open_desk().copy_groups()
        if as_json:
            out.print_json(data=[[s.model_dump(mode="json") for s in group] for group in groups])
        else:
            out.print(format_copy_groups(groups), markup=False, highlight=False)
        return
    items = open_desk().sources(outlet)
    if as_json:
        out.print_json(data=[s.model_dump(mode="json") for s in items])
    else:
        out.print(format_sources(items), markup=False, highlight=False)


@app.command()
def source(article_id: Annotated[str, typer.Argument(help="An id from `newsdesk sources`.")]) -> None:
    """Show one article's metadata and text."""
    article, info = open_desk().source(article_id)
    out.print(format_source(article, info), markup=False, highlight=False)


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Index size, model, build time."""
    state = open_desk().status()
    if as_json:
        out.print_json(state.model_dump_json())
    else:
        for key, value in state.model_dump().items():
            out.print(f"{key:>10}: {value if not isinstance(value, datetime) else value.isoformat()}")


@app.command()
def verify() -> None:
    """Check that FAISS, SQLite and the manifest agree; exit 1 if not."""
    state = open_desk().verify()
    out.print(f"ok: generation {state.generation}, {state.articles} articles, {state.chunks} chunks")


@app.command("eval")
def eval_command(
    corpus: Annotated[list[Path], typer.Option(help="Corpus: JSONL articles or a folder (repeatable).")],
    questions: Annotated[Path, typer.Option(help="Questions JSONL (see ../shared/eval/README.md).")],
    data_dir: Annotated[Path | None, typer.Option(help="Index folder; default data/eval/<corpus hash>.")] = None,
    mode: Annotated[list[Mode], typer.Option(help="Retrieval modes to compare (repeatable).")] = [Mode.rerank],  # noqa: B006
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N questions.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the figures here.")] = None,
    answers_out: Annotated[Path | None, typer.Option(help="Write every answer (JSONL) here.")] = None,
) -> None:
    """Index corpora into their own folder and score answers: verbatim, answer-in-quotes, hit@k, MRR, abstention."""
    from hashlib import blake2b

    from index.evaluate import corpus_desk, format_eval, run_eval, write_answers

    base = load_settings()
    key = blake2b("\n".join(sorted(str(c.resolve()) for c in corpus)).encode(), digest_size=6).hexdigest()
    folder = data_dir or base.data_dir / "eval" / key
    desk = corpus_desk(folder)
    with progress_bar() as update:
        result = run_eval(desk, corpus, questions, mode, limit, update,
                          write_answers(answers_out) if answers_out else None)
    out.print(format_eval(result), markup=False, highlight=False)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(result.model_dump_json(indent=2))


@app.command()
def feedback(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Summarise 👍/👎 votes on the bot's answers."""
    result = open_desk().feedback_summary()
    if as_json:
        out.print_json(result.model_dump_json())
        return
    out.print(f"{result.answers} answers, {result.voted_answers} voted on: {result.up} up, {result.down} down")
    for question, score in result.worst:
        out.print(f"  {score:+d}  {question}", markup=False, highlight=False)


def register_plugins(target: typer.Typer) -> typer.Typer:
    """Every installed front end's commands (the bot's `run` and `sync`), added by one call each."""
    for entry in entry_points(group="newsdesk.commands"):
        entry.load()(target)
    return target


def main() -> None:
    """click's conventions for usage errors (usage, the problem, "Try 'newsdesk --help'", exit 2); a person's
    error in one line, exit 2; anything unexpected in one line naming the file that holds its traceback, exit 1."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        register_plugins(app)(prog_name="newsdesk")
    except NewsdeskError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:
        log = Path(tempfile.gettempdir()) / "newsdesk-error.log"
        log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        err.print(f"error: unexpected {exc.__class__.__name__}: {exc} (traceback in {log})", markup=False,
                  highlight=False)
        sys.exit(1)
