"""Errors of the lineage package, part of factory's one error tree.

FactoryError
└── LineageError            a ledger, lineage event or release cannot be written or read
    └── SecretInLineageError  a value that looks like a secret was about to enter lineage
"""

from __future__ import annotations

from factory.errors import FactoryError

__all__ = ["LineageError", "SecretInLineageError"]


class LineageError(FactoryError):
    """A ledger, lineage event or release cannot be written or read."""


class SecretInLineageError(LineageError):
    """A secret-looking key or value was about to be written into lineage."""
