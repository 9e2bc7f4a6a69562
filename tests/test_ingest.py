"""Articles in every accepted format; bad files become reasons, never crashes."""

from datetime import date
from pathlib import Path

import pytest

from index.config import PROJECT_ROOT
from index.ingest import date_from_url, read_articles

from conftest import SHARED

CAP = 100_000


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


@pytest.mark.shared(SHARED / "seeds")
def test_seed_text_is_byte_for_byte_what_was_received() -> None:
    for received in (SHARED / "seeds").glob("*.txt"):
        articles, rejections = read_articles(PROJECT_ROOT / "seeds" / f"{received.stem}.md", CAP)
        assert rejections == []
        assert articles[0].text.encode() == received.read_bytes()
        assert articles[0].id == received.stem


def test_seed_metadata_is_only_what_the_text_states() -> None:
    (rt,), _ = read_articles(PROJECT_ROOT / "seeds" / "003_60249ec177c291d1.md", CAP)
    assert (rt.outlet, rt.published, rt.author) == ("RT", date(2019, 8, 28), None)
    assert rt.title and rt.title in rt.text
    (untitled,), _ = read_articles(PROJECT_ROOT / "seeds" / "000_a40fa405f421a0a6.md", CAP)
    assert untitled.title is None and untitled.outlet is None


def test_front_matter_fields_are_read_and_body_kept_exactly(tmp_path: Path) -> None:
    body = "  Line one.\r\nLine two.\n"
    path = write(tmp_path, "a.md", f"---\ntitle: T\noutlet: O\nurl: https://x.org/a\npublished: 2021-02-03\n"
                                    f"author: A\n---\n{body}")
    (article,), rejections = read_articles(path, CAP)
    assert rejections == []
    assert (article.title, article.outlet, article.url, article.published, article.author) == (
        "T", "O", "https://x.org/a", date(2021, 2, 3), "A")
    assert article.text == body


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("binary.txt", b"\x00\x01\x02abc", "binary"),
    ("latin1.txt", "caf\xe9 cr\xe8me".encode("latin-1"), "not UTF-8"),
    ("empty.md", "  \n\t\n", "empty"),
    ("huge.txt", "word " * 30_000, "limit"),
    ("broken.md", "---\ntitle: [unclosed\n---\nText.", "front matter"),
    ("unclosed.md", "---\ntitle: x\nText without end.", "front matter"),
    ("baddate.md", "---\npublished: not a date at all\n---\nText.", "published"),
    ("bad.json", "{not json", "invalid JSON"),
    ("notext.json", '{"title": "no text"}', "text"),
    ("script.html", "<html><body><script>alert(1)</script></body></html>", "no article text"),
])
def test_unreadable_files_are_rejected_with_a_reason(tmp_path: Path, name: str, data: str | bytes,
                                                     reason: str) -> None:
    articles, rejections = read_articles(write(tmp_path, name, data), CAP)
    assert articles == []
    assert len(rejections) == 1 and reason in rejections[0].reason


def test_jsonl_keeps_good_records_and_reports_bad_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "c.jsonl", '{"doc_id": "d1", "text": "One.", "url": "https://a.com/2023/04/26/x/"}\n'
                                      "oops\n"
                                      '{"id": "d3", "text": "Three.", "published": "2020-01-02", "source": "CNN"}\n')
    articles, rejections = read_articles(path, CAP)
    assert [a.id for a in articles] == ["d1", "d3"]
    assert articles[0].published == date(2023, 4, 26)
    assert articles[1].outlet == "CNN"
    assert [r.source for r in rejections] == [f"{path}:2"]


def test_html_main_text_and_metadata_are_extracted(tmp_path: Path) -> None:
    html = ("<html><head><title>Storm hits coast</title><meta property='og:site_name' content='Daily'>"
            "<meta property='article:published_time' content='2022-09-30'></head><body><nav>Menu</nav>"
            "<script>track()</script><article><h1>Storm hits coast</h1><p>A strong storm reached the "
            "coast on Friday, flooding several towns and cutting power to thousands of homes.</p><p>Officials "
            "said repairs would take days, and asked residents to stay away from the beaches.</p></article>"
            "</body></html>")
    (article,), _ = read_articles(write(tmp_path, "storm.html", html), CAP)
    assert article.title == "Storm hits coast" and article.outlet == "Daily"
    assert article.published == date(2022, 9, 30)
    assert "flooding several towns" in article.text and "track()" not in article.text


def test_publication_date_is_read_from_news_urls() -> None:
    assert date_from_url("https://www.usatoday.com/story/news/2023/04/26/slug/123/") == date(2023, 4, 26)
    assert date_from_url("https://edition.cnn.com/2023/1/5/us/x") == date(2023, 1, 5)
    assert date_from_url("https://example.com/2023/13/45/x") is None
    assert date_from_url("https://example.com/about") is None
