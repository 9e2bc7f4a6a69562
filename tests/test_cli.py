"""The command line answers, reports and fails in one line, as a newcomer would use it."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from index.answerability import default_model
from index.service import Newsdesk


def run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir), **env}
    return subprocess.run([sys.executable, "-m", "index", *args], capture_output=True, text=True,
                          env=environment, timeout=300)


def test_ask_prints_block_quotes_with_attribution(seeds_desk: Newsdesk) -> None:
    result = run(["ask", "Why was Russia expelled from the G8?"], seeds_desk.settings.data_dir)
    assert result.returncode == 0, result.stderr
    assert "> Russia was expelled in 2014" in result.stdout
    assert "[000_a40fa405f421a0a6]" in result.stdout


def test_ask_json_is_the_answer_model(seeds_desk: Newsdesk) -> None:
    result = run(["ask", "--json", "-k", "2", "What is the boiling point of tungsten?"], seeds_desk.settings.data_dir)
    data = json.loads(result.stdout)
    assert data["abstained"] is True and data["quotes"] == []
    assert data["reason"] == "unknown_terms" and "“tungsten”" in data["why"]
    assert data["answerability"]["probability"] < default_model().threshold and "tungsten" in data["answerability"]["missing_terms"]


def test_abstention_in_the_terminal_says_why_and_lists_the_closest(seeds_desk: Newsdesk) -> None:
    result = run(["ask", "Who won Euro 2024?"], seeds_desk.settings.data_dir)
    assert result.returncode == 0, result.stderr
    assert "The coverage runs from 2019-08-28 to 2020-06-01; nothing is dated 2024." in result.stdout
    assert "[003_60249ec177c291d1]" in result.stdout


def test_ask_on_a_fresh_checkout_builds_the_index_first(tmp_path: Path) -> None:
    result = run(["ask", "How many ventilators did the United States ship to Russia?"], tmp_path / "fresh")
    assert result.returncode == 0, result.stderr
    assert "building" in result.stderr and "200 ventilators" in result.stdout


def test_errors_are_one_line_with_an_exit_code(seeds_desk: Newsdesk, tmp_path: Path) -> None:
    missing = run(["source", "no-such-article"], seeds_desk.settings.data_dir)
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert "no article with id" in missing.stderr
    bad_setting = run(["status"], tmp_path, NEWSDESK_CANDIDATES="many")
    assert bad_setting.returncode != 0 and "NEWSDESK_CANDIDATES" in bad_setting.stderr
    assert "Traceback" not in bad_setting.stderr
    empty = run(["ask", "   "], seeds_desk.settings.data_dir)
    assert empty.returncode != 0 and "ask a question in words" in empty.stderr


def test_sources_lists_every_indexed_article(seeds_desk: Newsdesk) -> None:
    result = run(["sources", "--json"], seeds_desk.settings.data_dir)
    ids = {item["article_id"] for item in json.loads(result.stdout)}
    assert ids == {"000_a40fa405f421a0a6", "003_60249ec177c291d1"}


def test_index_exits_non_zero_when_a_file_failed_but_indexes_the_rest(tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "ok.md").write_text("---\ntitle: Fine\n---\nA perfectly fine article about bridges.\n")
    (extra / "bad.md").write_bytes(b"\x00\x00")
    result = run(["index", str(extra)], tmp_path / "data")
    assert result.returncode == 1
    assert "failed:" in result.stdout and "bad.md" in result.stdout
    assert "ok" in json.loads(run(["sources", "--json"], tmp_path / "data").stdout)[0]["article_id"] or \
        any(i["article_id"] == "ok" for i in json.loads(run(["sources", "--json"], tmp_path / "data").stdout))


def test_usage_errors_follow_click_conventions(tmp_path: Path) -> None:
    """Exit 2, the usage line, the problem naming the option, and where help is; never a class name."""
    for args, problem in ((["bogus"], "No such command 'bogus'"), (["ask"], "Missing argument 'QUESTION'"),
                          (["ask", "x", "-k", "0"], "Invalid value for '-k'")):
        result = run(args, tmp_path, COLUMNS="200")
        assert result.returncode == 2, (args, result.stderr)
        assert problem in result.stderr and "Try 'newsdesk" in result.stderr
        assert "Error:" not in result.stderr.replace("─ Error ─", "") and "UsageError" not in result.stderr


def test_help_reads_like_a_click_tool_flags_take_no_value_arguments_in_capitals(tmp_path: Path) -> None:
    """typer 0.29 prints `--json <bool>` and `{question}`; people know `--json` and `QUESTION`."""
    for command, usage in ((["ask"], "newsdesk ask [OPTIONS] QUESTION"), (["run"], "newsdesk run [OPTIONS]"),
                           (["index"], "newsdesk index [OPTIONS] [PATHS...]"), ([], "newsdesk [OPTIONS] COMMAND")):
        result = run([*command, "--help"], tmp_path, COLUMNS="200")
        assert result.returncode == 0 and usage in result.stdout, result.stdout
        assert "<bool>" not in result.stdout and "{" not in result.stdout
    assert re.search(r"--since\s+YYYY-MM-DD", run(["ask", "--help"], tmp_path, COLUMNS="200").stdout)


def test_an_unexpected_error_is_one_line_naming_its_traceback_file(seeds_desk: Newsdesk, monkeypatch,
                                                                   capsys) -> None:
    from index import cli

    def broken(self: Newsdesk) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Newsdesk, "status", broken)
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(seeds_desk.settings.data_dir))
    monkeypatch.setattr(sys, "argv", ["newsdesk", "status"])
    try:
        cli.main()
    except SystemExit as exit_:
        code = exit_.code
    stderr = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(stderr) == 1 and stderr[0].startswith("error: unexpected RuntimeError: disk on fire")
    log = Path(stderr[0].rsplit("traceback in ", 1)[1].rstrip(")"))
    assert "Traceback" in log.read_text() and "disk on fire" in log.read_text()


def test_index_remembers_existing_paths_only_and_forgets_a_gone_one_with_one_warning(tmp_path: Path) -> None:
    data, extra = tmp_path / "data", tmp_path / "extra"
    extra.mkdir()
    (extra / "bridge.md").write_text("---\ntitle: Bridge\n---\nThe old bridge over the river reopened on Monday.\n")
    typo = run(["index", str(tmp_path / "does-not-exist")], data)
    assert typo.returncode == 1 and "no such file or folder" in typo.stdout
    assert run(["index", str(extra)], data).returncode == 0
    assert run(["roots"], data).stdout.splitlines() == [str(extra.resolve())]
    (extra / "bridge.md").unlink()
    extra.rmdir()
    gone = run(["index"], data)
    assert gone.returncode == 0 and "warning:" in gone.stdout and "now gone; forgotten" in gone.stdout
    again = run(["index"], data)
    assert again.returncode == 0 and "warning:" not in again.stdout
    assert "no remembered paths" in run(["roots"], data).stdout
    unknown = run(["roots", "--forget", str(extra)], data)
    assert unknown.returncode == 2 and "not a remembered path" in unknown.stderr


def test_chat_answers_one_question_after_another_keeping_its_filters(seeds_desk: Newsdesk) -> None:
    lines = ["Why was Russia expelled from the G8?", "/outlet RT", "Why was Russia expelled from the G8?",
             "/sources", "/source 003_60249ec177c291d1", "/since 2020-13-01", "/bogus", "/quit", "never asked"]
    result = subprocess.run([sys.executable, "-m", "index", "chat"], input="\n".join(lines) + "\n",
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "NEWSDESK_DATA_DIR": str(seeds_desk.settings.data_dir)})
    assert result.returncode == 0, result.stderr
    first, filtered = result.stdout.split("outlets: RT")
    assert "[000_a40fa405f421a0a6]" in first and "Crimean Peninsula" in first
    answer, listing = filtered.split("1 articles")
    assert "[003_60249ec177c291d1]" in answer and "[000_a40fa405f421a0a6]" not in answer
    assert "US State Secretary Mike Pompeo has said" in listing  # /source shows the text
    assert "since must be a date like 2020-06-01" in listing and "unknown command /bogus" in listing
    assert "never asked" not in result.stdout and result.stdout.count("What the coverage says about") == 2
