"""Errors that become one-line messages; each says what to do next, and says it to the right person.

A `UserError` is about the request (the question, the upload, the article asked for): the bot shows it to
whoever asked. An `OperatorError` is about the installation (settings, the index on disk): its message may
name server paths and settings, so the bot logs it and tells users only that answers are unavailable.
The terminal shows both, since whoever runs it is the operator.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError


class NewsdeskError(Exception):
    """Base of every error meant for a person rather than a traceback."""


class UserError(NewsdeskError):
    """Safe to show to whoever asked: it names nothing of the server."""


class OperatorError(NewsdeskError):
    """For whoever runs Newsdesk: may name paths, settings and commands of the server."""


class ConfigError(OperatorError):
    """Settings are missing or invalid."""

    @classmethod
    def invalid(cls, error: ValidationError, name: Callable[[tuple[int | str, ...]], str]) -> ConfigError:
        """pydantic's report as one line, each problem under the environment variable that sets it."""
        problems = "; ".join(f"{name(err['loc'])}: {err['msg']}" for err in error.errors())
        return cls(f"invalid configuration ({problems}); fix it in the environment or .env")


class IndexNotFound(OperatorError):
    """No index has been built in the data directory yet."""


class IndexMismatch(OperatorError):
    """The stored index was built under other settings (model, chunker, format)."""


class IndexCorrupt(OperatorError):
    """Files of a generation are missing, truncated or disagree with each other."""


class ReindexBusy(UserError):
    """Another re-index holds the lock."""


class BadQuestion(UserError):
    """The question cannot be answered as asked (empty, too long, no words)."""


class UnknownArticle(UserError):
    """No indexed article has the requested id."""


class UnknownPath(UserError):
    """A path to forget that was never remembered."""


class UploadRefused(UserError):
    """An uploaded article file breaks a rule (type, size, unreadable, already indexed)."""
