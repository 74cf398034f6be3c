"""factory: map a corpus's embedding space, find its gaps, synthesize governed training data.

The library never imports dagster; `assets/` wraps it as software-defined assets.

Example:
    >>> from factory import FactoryConfig, ingest_corpus
    >>> docs = ingest_corpus(FactoryConfig.from_dict({"ingest": {"max_documents": 3}})).documents
    >>> docs.height
    3
"""

from factory.config import FactoryConfig, load_config
from factory.corpus import IngestResult, ingest_corpus
from factory.errors import (
    BackendError,
    ConfigError,
    FactoryError,
    RemoteNotAllowedError,
    SchemaError,
    SourceError,
)
from factory.home import Home

__all__ = [
    "BackendError",
    "ConfigError",
    "FactoryConfig",
    "FactoryError",
    "Home",
    "IngestResult",
    "RemoteNotAllowedError",
    "SchemaError",
    "SourceError",
    "ingest_corpus",
    "load_config",
]

__version__ = "0.1.0"
