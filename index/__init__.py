"""Newsdesk core: articles in, verbatim source-attributed answers out. Knows nothing of Discord."""

__version__ = "0.1.0"
