"""HTML main text and metadata, isolated here so the extractor can be swapped in one place."""

from __future__ import annotations

from typing import Any

import trafilatura


def extract_html(html: str) -> tuple[dict[str, Any], str] | None:
    """trafilatura drops navigation, scripts and boilerplate; None when no article text is found."""
    document = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    if document is None or not (document.text or "").strip():
        return None
    meta = {
        "title": document.title,
        "outlet": document.sitename,
        "url": document.url,
        "published": document.date,
        "author": document.author,
    }
    return meta, document.text
