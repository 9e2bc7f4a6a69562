"""A store backend on Milvus (pymilvus): Milvus Lite's local file for tests and CI, a Milvus server in
production (NEWSDESK_STORE=milvus, NEWSDESK_MILVUS_URI). Needs the `milvus` extra."""

from index.store.milvus.store import MilvusStore

__all__ = ["MilvusStore"]
