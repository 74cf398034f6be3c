"""The one error tree of factory.

    FactoryError
    ├── ConfigError        the configuration file or a value in it is wrong
    ├── SourceError        a corpus source cannot be read at all
    ├── SchemaError        a table does not match its declared schema
    ├── BackendError       a model backend (embedder, teacher) failed or is unavailable
    └── RemoteNotAllowedError  an endpoint off loopback without `allow_remote: true`

Every message says what is wrong, shows the value and says how to fix it. The CLI prints the
message on one line and exits non-zero.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "ConfigError",
    "FactoryError",
    "RemoteNotAllowedError",
    "SchemaError",
    "SourceError",
]


class FactoryError(Exception):
    """Base class of every error factory raises on purpose."""


class ConfigError(FactoryError):
    """The configuration is invalid."""


class SourceError(FactoryError):
    """A corpus source cannot be read."""


class SchemaError(FactoryError):
    """A table does not match its declared schema."""


class BackendError(FactoryError):
    """A model backend failed or is not installed."""


class RemoteNotAllowedError(ConfigError):
    """An endpoint is not on loopback and `allow_remote` is false."""
