"""The core's settings: paths and limits, and one part per stage that is the very object the stage takes.

Each setting keeps its flat environment name (`NEWSDESK_CANDIDATES`, `NEWSDESK_QUOTE_FLOOR`, ...): a stage
field's alias is its name, and `FlatSource` places each variable in its part. `names()` lists them all,
which is how a test holds `.env.example` to the model.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from index.answer import AnswerConfig
from index.chunk import ChunkConfig
from index.embed import EmbedConfig
from index.errors import ConfigError
from index.retrieve import RetrievalConfig
from index.store.base import StoreConfig
from index.vectors import Layout

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PREFIX = "NEWSDESK_"
ENV_FILE = ".env"


class Settings(BaseSettings):
    """Defaults chosen from measurements (see docs/evaluation.md); each written once, in its stage."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", validate_default=True, frozen=True)

    data_dir: Path = Field(PROJECT_ROOT / "data", description="Where index generations live.")
    seeds_dir: Path | None = Field(PROJECT_ROOT / "seeds", description="Starting articles, always indexed.")
    articles_dir: Path | None = Field(
        None, description="Articles added by moderators; default: <data_dir>/articles.")
    prompts_dir: Path = Field(PROJECT_ROOT / "prompts", description="Reply wording templates.")
    models_dir: Path | None = Field(None, description="Models converted or exported once (the int8 ONNX export, "
                                    "e5's conversion); default <data_dir>/models; several data folders may share one.")
    feedback_path: Path | None = Field(None, description="Votes on answers (SQLite); default "
                                       "<data_dir>/feedback.sqlite, beside the generations so re-indexing keeps them.")
    max_file_bytes: int = Field(5_000_000, ge=1_000, description="Larger article files are refused.")
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused; a Discord message "
                                    "holds 2,000 characters.")

    embed: EmbedConfig = EmbedConfig()
    chunk: ChunkConfig = ChunkConfig()
    vectors: Layout = Layout()
    store: StoreConfig = StoreConfig()
    retrieval: RetrievalConfig = RetrievalConfig()
    answer: AnswerConfig = AnswerConfig()

    @model_validator(mode="after")
    def _fill_paths(self) -> Settings:
        """Paths left empty follow the data directory."""
        if self.articles_dir is None:
            object.__setattr__(self, "articles_dir", self.data_dir / "articles")
        if self.models_dir is None:
            object.__setattr__(self, "models_dir", self.data_dir / "models")
        if self.feedback_path is None:
            object.__setattr__(self, "feedback_path", self.data_dir / "feedback.sqlite")
        return self

    def updated(self, **overrides: object) -> Settings:
        """A validated copy with some settings changed, by their flat names (as `load_settings` takes them)."""
        return load_settings(**{**self.flat(), **overrides})

    def flat(self) -> dict[str, object]:
        """Every setting under its flat name (the environment variable's, without the prefix)."""
        values: dict[str, object] = {}
        for path, flat in _fields(Settings):
            node: object = self
            for key in path:
                node = getattr(node, key)
            values[flat] = node
        return values

    @property
    def articles_path(self) -> Path:
        assert self.articles_dir is not None
        return self.articles_dir

    @property
    def models_path(self) -> Path:
        assert self.models_dir is not None
        return self.models_dir

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then `.env`: each read by flat name into the nested parts."""
        found = env_file()
        dotenv = {k: v for k, v in dotenv_values(found).items() if v is not None} if found else {}
        return init_settings, FlatSource(settings_cls, os.environ), FlatSource(settings_cls, dotenv)


def env_file() -> Path | None:
    """The `.env` in force: the current directory's, else the project's (where data and seeds are found)."""
    return next((folder / ENV_FILE for folder in (Path.cwd(), PROJECT_ROOT) if (folder / ENV_FILE).is_file()), None)


def _fields(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """(place in the nested model, flat name) of every leaf setting."""
    for name, info in model.model_fields.items():
        part = _part(info)
        if part is not None:
            yield from _fields(part, (*path, name))
        else:
            yield (*path, name), str(info.validation_alias or name)


def _part(info: FieldInfo) -> type[BaseModel] | None:
    kind = info.annotation
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def names() -> dict[str, tuple[str, ...]]:
    """Every environment variable the core reads, with the place it sets."""
    return {PREFIX + flat.upper(): path for path, flat in _fields(Settings)}


class FlatSource(PydanticBaseSettingsSource):
    """`NEWSDESK_<NAME>` variables placed into the nested parts; unknown names are left alone."""

    def __init__(self, settings_cls: type[BaseSettings], values: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.values = {key.upper(): value for key, value in values.items()}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        names = [name.removeprefix(PREFIX) for name in self.values if name.startswith(PREFIX)]
        known = {PREFIX + flat.upper() for _, flat in _fields(Settings)}
        return nest(_placed({name: self.values[PREFIX + name] for name in names if PREFIX + name in known}))


def _placed(overrides: Mapping[str, object]) -> dict[tuple[str, ...], object]:
    """Flat names -> places keyed as parts are validated (by alias); an unknown name is an error."""
    aliases = {PREFIX + flat.upper(): (*path[:-1], flat) if len(path) > 1 else path for path, flat in _fields(Settings)}
    unknown = sorted(k for k in overrides if PREFIX + k.upper() not in aliases)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}")
    return {aliases[PREFIX + key.upper()]: value for key, value in overrides.items()}


def nest(values: Mapping[tuple[str, ...], object]) -> dict[str, Any]:
    """{("answer", "quote_floor"): 0.3} -> {"answer": {"quote_floor": 0.3}}."""
    tree: dict[str, Any] = {}
    for path, value in values.items():
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return tree


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, `.env` and `overrides` (flat names, as in the environment)."""
    try:
        return Settings(**nest(_placed(overrides)))
    except ValidationError as exc:
        raise ConfigError.invalid(exc, _env_name) from exc


def _env_name(location: tuple[int | str, ...]) -> str:
    """Where pydantic found a problem, as the variable a person sets (parts report their alias)."""
    return PREFIX + str(location[-1]).upper() if location else PREFIX
