"""The Milvus backend: which generations exist and which is live, read from Milvus itself.

A generation exists once its manifest row does; the live one is the newest. Every process that asks
(bots on other machines included) sees a commit at its next question, as the file store's CURRENT is seen.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from functools import cached_property
from pathlib import Path

from pymilvus import MilvusClient
from pymilvus.exceptions import MilvusException

from index.errors import IndexCorrupt, IndexMismatch, IndexNotFound, OperatorError
from index.models import Manifest
from index.store.base import StoreConfig
from index.store.directory import Expected, writer_lock
from index.store.milvus import schema
from index.store.milvus.reader import MilvusGeneration
from index.store.milvus.writer import FORMAT_VERSION, MilvusWriter

LITE_FILE = "milvus.db"


def _unimplemented(record: logging.LogRecord) -> bool:
    """Milvus Lite's in-process gRPC server logs a traceback each time pymilvus asks it for a timestamp it does
    not serve (AllocTimestamp; the client then carries on without one): dropped, other errors kept."""
    return not (record.exc_info and isinstance(record.exc_info[1], NotImplementedError))


class MilvusStore:
    """Generations in Milvus collections (store/milvus/schema.py); the re-index lock stays a local file, so
    one host re-indexes at a time (docs/deploy.md)."""

    def __init__(self, config: StoreConfig, data_dir: Path) -> None:
        self.config = config
        self.data_dir = data_dir
        self.uri = config.milvus_uri or str(data_dir / LITE_FILE)
        self.collections = schema.names(config.milvus_collections)
        self.paged = "://" in self.uri

    @cached_property
    def client(self) -> MilvusClient:
        if not self.paged:
            Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
            grpc_server = logging.getLogger("grpc._server")
            if _unimplemented not in grpc_server.filters:
                grpc_server.addFilter(_unimplemented)
        try:
            client = MilvusClient(self.uri, token=self.config.milvus_token)
            for collection in self.collections.values():
                if client.has_collection(collection):
                    client.load_collection(collection)
        except MilvusException as exc:
            raise OperatorError(f"cannot open Milvus at {self.uri} (NEWSDESK_MILVUS_URI): {exc.message}") from exc
        return client

    def _committed(self) -> dict[int, str]:
        """Generation number -> manifest JSON, for every committed generation still kept."""
        if not self.client.has_collection(self.collections["generations"]):
            return {}
        return {row["pk"]: row["manifest"] for row in schema.scan(
            self.client, self.collections["generations"], "born >= 0", ["pk", "manifest"], self.paged)}

    def current_name(self) -> str | None:
        committed = self._committed()
        return schema.generation_name(max(committed)) if committed else None

    def names(self) -> list[str]:
        return [schema.generation_name(n) for n in sorted(self._committed(), reverse=True)]

    def dimension(self) -> int | None:
        return schema.dimension_of(self.client, self.config.milvus_collections)

    def load(self, expected: Expected, name: str | None = None, check: bool = False,
             upgrading: bool = False) -> MilvusGeneration:
        committed = self._committed()
        if not committed:
            raise IndexNotFound(f"no index in Milvus at {self.uri} (collections {self.config.milvus_collections}_*); "
                                "build one with `newsdesk index`")
        number = int(name[1:]) if name else max(committed)
        if number not in committed:
            raise IndexCorrupt(f"generation {name} is not in Milvus at {self.uri}; run `newsdesk index`")
        manifest = Manifest.model_validate_json(committed[number])
        expected.check(manifest, upgrading, current=FORMAT_VERSION, upgradable=frozenset())
        generation = MilvusGeneration(self.client, self.config.milvus_collections, number, manifest, self.paged)
        if check:
            generation.verify()
        return generation

    def close(self) -> None:
        """Let go of Milvus; a Milvus Lite file (locked by the in-process server that opened it) is released
        for another process."""
        if "client" in self.__dict__:
            self.client.close()
            del self.__dict__["client"]
            if not self.paged:
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(self.uri)

    def lock(self) -> AbstractContextManager[None]:
        return writer_lock(self.data_dir)

    def writer(self, base: MilvusGeneration | None, dimension: int) -> MilvusWriter:
        """The next generation's writer; `base` None rebuilds (every live row is removed from the next one)."""
        existing = self.dimension()
        if existing is not None and existing != dimension:
            raise IndexMismatch(f"the Milvus collections {self.config.milvus_collections}_* hold {existing}-d vectors, "
                                f"the model gives {dimension}; set NEWSDESK_MILVUS_COLLECTIONS to a new prefix")
        schema.create(self.client, self.config.milvus_collections, dimension)
        committed = self._committed()
        return MilvusWriter(self.client, self.config.milvus_collections, max(committed, default=0) + 1, dimension,
                            rebuild=base is None, paged=self.paged)
