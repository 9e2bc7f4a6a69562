"""The Milvus collections, the versioned rows in them, and filter expressions over them.

Every row carries `born` (the generation that wrote it) and `died` (the generation that removed it, ALIVE
while none has); generation g reads the rows with born <= g < died, so the live generation and the one being
written share every unchanged row and never see each other's changes. Collections:

    <prefix>_generations  one row per committed generation: its manifest (committing = inserting it)
    <prefix>_articles     article metadata, copy group and MinHash bands; text in parts (VARCHAR caps at 64 KiB)
    <prefix>_chunks       chunk text, its stems (BM25 function -> sparse vector), dense vector, outlet and day
    <prefix>_sentences    sentence spans, vectors (float16 values, as the file store keeps them) and speakers
    <prefix>_terms        per stem, the number of chunks holding it (document frequency), one row per change

Milvus refuses a collection without a vector field: generations, articles and terms carry a 2-d placeholder.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from pymilvus import DataType, Function, FunctionType, MilvusClient

from index.store.filter import ArticleFilter

ALIVE = 2**62
UNDATED = -1  # below every day: outside `since`/`until`, inside `as_of` (as in the keyword index)
TEXT_PART = 16_000  # characters per article part: 64 KiB of VARCHAR at 4 UTF-8 bytes each
PLACEHOLDER = [0.0, 0.0]
STRONG = "Strong"  # a read after a commit sees every row written before it
_BATCH = 4096
_STRING = 65_535


def names(prefix: str) -> dict[str, str]:
    return {kind: f"{prefix}_{kind}" for kind in ("generations", "articles", "chunks", "sentences", "terms")}


def generation_name(number: int) -> str:
    return f"m{number:08d}"


def key(*parts: object) -> int:
    """A row's primary key from what identifies it and the generation that wrote it (signed 64-bit)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def day(published: date | None) -> int:
    return published.toordinal() if published else UNDATED


def visible(generation: int) -> str:
    return f"born <= {generation} and died > {generation}"


def quoted(values: Sequence[object]) -> str:
    """A list literal for `in [...]`; strings are JSON-quoted, non-ASCII kept as is (Milvus reads no \\u escapes)."""
    return json.dumps(list(values), ensure_ascii=False)


def admitted(where: ArticleFilter) -> str:
    """The article filter as a Milvus expression over `outlet_key` and `day` (the SQL filter's meaning)."""
    clauses = []
    if where.outlets:
        clauses.append(f"outlet_key in {quoted([o.lower() for o in where.outlets])}")
    low = where.since.toordinal() if where.since else UNDATED + 1 if where.until else UNDATED
    high = min((d.toordinal() for d in (where.until, where.as_of) if d), default=None)
    if where.since or high is not None:
        clauses.append(f"day >= {low}")
    if high is not None:
        clauses.append(f"day <= {high}")
    return " and ".join(clauses)


def both(*expressions: str) -> str:
    return " and ".join(f"({e})" for e in expressions if e)


def scan(client: MilvusClient, collection: str, expression: str, fields: list[str],
         paged: bool) -> Iterator[dict[str, Any]]:
    """Every row matching. A Milvus server caps a plain query at 16,384 rows, so it is read with a query
    iterator (`paged`); Milvus Lite has no cap, and its iterator cannot get the server's timestamp."""
    if not paged:
        yield from lookup(client, collection, expression, fields)
        return
    found = client.query_iterator(collection, filter=expression, output_fields=fields, batch_size=_BATCH,
                                  consistency_level=STRONG)
    try:
        while batch := found.next():
            yield from batch
    finally:
        found.close()


def lookup(client: MilvusClient, collection: str, expression: str, fields: list[str]) -> list[dict[str, Any]]:
    """Rows of a bounded lookup (ids listed in the expression)."""
    return list(client.query(collection, filter=expression, output_fields=fields, consistency_level=STRONG))


def create(client: MilvusClient, prefix: str, dimension: int) -> None:
    """The collections, if they do not exist yet (indexes built, loaded)."""
    made = names(prefix)
    for kind, build in (("generations", _generations), ("articles", _articles), ("chunks", _chunks),
                        ("sentences", _sentences), ("terms", _terms)):
        if not client.has_collection(made[kind]):
            schema, indexes = build(client, dimension)
            client.create_collection(made[kind], schema=schema, index_params=indexes, consistency_level=STRONG)
        client.load_collection(made[kind])


def dimension_of(client: MilvusClient, prefix: str) -> int | None:
    collection = names(prefix)["chunks"]
    if not client.has_collection(collection):
        return None
    fields = client.describe_collection(collection)["fields"]
    return int(next(f["params"]["dim"] for f in fields if f["name"] == "dense"))


def _versioned(client: MilvusClient, key_type: DataType) -> Any:
    schema = client.create_schema(auto_id=False)
    if key_type is DataType.VARCHAR:
        schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=1024)
    else:
        schema.add_field("pk", key_type, is_primary=True)
    schema.add_field("born", DataType.INT64)
    schema.add_field("died", DataType.INT64)
    return schema


def _placeholder(client: MilvusClient, schema: Any) -> Any:
    schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=len(PLACEHOLDER))
    indexes = client.prepare_index_params()
    indexes.add_index("placeholder", index_type="FLAT", metric_type="L2")
    return schema, indexes


def _generations(client: MilvusClient, dimension: int) -> tuple[Any, Any]:
    schema = _versioned(client, DataType.INT64)
    schema.add_field("manifest", DataType.VARCHAR, max_length=_STRING)
    return _placeholder(client, schema)


def _articles(client: MilvusClient, dimension: int) -> tuple[Any, Any]:
    schema = _versioned(client, DataType.VARCHAR)
    schema.add_field("article_id", DataType.VARCHAR, max_length=512)
    schema.add_field("part", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=_STRING)
    for name in ("title", "outlet", "outlet_key", "url", "author", "source", "content_hash", "text_hash",
                 "group_id"):
        schema.add_field(name, DataType.VARCHAR, max_length=_STRING if name in ("title", "url") else 1024,
                         nullable=name in ("title", "outlet", "url", "author"))
    schema.add_field("day", DataType.INT64)
    schema.add_field("chunk_count", DataType.INT64)
    schema.add_field("signature", DataType.ARRAY, element_type=DataType.INT64, max_capacity=128)
    schema.add_field("bands", DataType.ARRAY, element_type=DataType.INT64, max_capacity=128)
    return _placeholder(client, schema)


def _chunks(client: MilvusClient, dimension: int) -> tuple[Any, Any]:
    schema = _versioned(client, DataType.INT64)
    schema.add_field("chunk", DataType.INT64)
    schema.add_field("article_id", DataType.VARCHAR, max_length=512)
    for name in ("ordinal", "start", "end", "day"):
        schema.add_field(name, DataType.INT64)
    schema.add_field("outlet_key", DataType.VARCHAR, max_length=1024)
    schema.add_field("text", DataType.VARCHAR, max_length=_STRING)
    # The stems of index/terms.py, space-separated: Milvus's standard tokenizer splits them back unchanged, so
    # BM25 and the document frequencies see the terms the file store's keyword index holds.
    schema.add_field("terms", DataType.VARCHAR, max_length=_STRING, enable_analyzer=True, enable_match=True,
                     analyzer_params={"tokenizer": "standard"})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                 output_field_names=["sparse"]))
    indexes = client.prepare_index_params()
    indexes.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    indexes.add_index("dense", index_type="FLAT", metric_type="IP")
    return schema, indexes


def _sentences(client: MilvusClient, dimension: int) -> tuple[Any, Any]:
    schema = _versioned(client, DataType.INT64)
    schema.add_field("sentence", DataType.INT64)
    schema.add_field("article_id", DataType.VARCHAR, max_length=512)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("speaker", DataType.VARCHAR, max_length=1024)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    indexes = client.prepare_index_params()
    indexes.add_index("vector", index_type="FLAT", metric_type="IP")
    return schema, indexes


def _terms(client: MilvusClient, dimension: int) -> tuple[Any, Any]:
    """Document frequencies kept at write time: counting a stem with TEXT_MATCH took ~0.8 s per word in Milvus
    Lite over 97k chunks, and the answerability signals ask for every word of a question."""
    schema = _versioned(client, DataType.VARCHAR)
    schema.add_field("stem", DataType.VARCHAR, max_length=1024)
    schema.add_field("chunks", DataType.INT64)
    return _placeholder(client, schema)
