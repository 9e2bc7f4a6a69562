"""Errors the CLI and the bot turn into one-line messages; each says what to do next."""


class NewsdeskError(Exception):
    """Base of every error meant for a person rather than a traceback."""


class ConfigError(NewsdeskError):
    """Settings are missing or invalid."""


class IndexNotFound(NewsdeskError):
    """No index has been built in the data directory yet."""


class IndexMismatch(NewsdeskError):
    """The stored index was built under other settings (model, chunker, format)."""


class IndexCorrupt(NewsdeskError):
    """Files of a generation are missing, truncated or disagree with each other."""


class ReindexBusy(NewsdeskError):
    """Another re-index holds the lock."""


class BadQuestion(NewsdeskError):
    """The question cannot be answered as asked (empty, too long, no words)."""


class UnknownArticle(NewsdeskError):
    """No indexed article has the requested id."""
