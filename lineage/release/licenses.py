"""License use classes (after the Data Provenance Initiative, Longpre et al. 2023).

Every license maps to a use class, from least to most restrictive: `commercial`, `unspecified`,
`non-commercial`, `academic-only`; plus attribution and share-alike flags. A derived dataset takes
the most restrictive class of its sources and of its generator's terms. An unknown license is
`unspecified`, which blocks commercial use unless the publisher overrides it (and the override is
recorded in the release).

Example:
    >>> license_terms("CC-BY-4.0").use_class
    'commercial'
    >>> most_restrictive(["commercial", "non-commercial"])
    'non-commercial'
    >>> use_allowed("unspecified", "commercial")
    False
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "LICENSE_CLASSES",
    "USES",
    "LicenseTerms",
    "license_terms",
    "most_restrictive",
    "use_allowed",
]

LICENSE_CLASSES = ("commercial", "unspecified", "non-commercial", "academic-only")
"""Use classes, least restrictive first."""

USES = ("commercial", "non-commercial", "academic")
"""What a publisher may declare a release is for."""

_ALLOWED: dict[str, frozenset[str]] = {
    "commercial": frozenset(USES),
    "unspecified": frozenset({"non-commercial", "academic"}),
    "non-commercial": frozenset({"non-commercial", "academic"}),
    "academic-only": frozenset({"academic"}),
}


@dataclass(frozen=True)
class LicenseTerms:
    """A license id's use class and its attribution / share-alike duties."""

    license: str
    use_class: str
    attribution: bool = False
    share_alike: bool = False
    known: bool = True


# (use class, attribution, share-alike) per lower-case SPDX-like id or generator terms.
_TERMS: dict[str, tuple[str, bool, bool]] = {
    "cc0-1.0": ("commercial", False, False),
    "pddl": ("commercial", False, False),
    "mit": ("commercial", True, False),
    "apache-2.0": ("commercial", True, False),
    "bsd-2-clause": ("commercial", True, False),
    "bsd-3-clause": ("commercial", True, False),
    "psf-2.0": ("commercial", True, False),
    "cc-by-3.0": ("commercial", True, False),
    "cc-by-4.0": ("commercial", True, False),
    "odc-by": ("commercial", True, False),
    "cc-by-sa-3.0": ("commercial", True, True),
    "cc-by-sa-4.0": ("commercial", True, True),
    "odbl": ("commercial", True, True),
    "gpl-3.0": ("commercial", True, True),
    "cc-by-nc-4.0": ("non-commercial", True, False),
    "cc-by-nc-sa-4.0": ("non-commercial", True, True),
    "cc-by-nc-nd-4.0": ("non-commercial", True, False),
    "openai-terms": ("non-commercial", False, False),
    "anthropic-terms": ("non-commercial", False, False),
    "academic-only": ("academic-only", False, False),
    "research-only": ("academic-only", False, False),
}


def license_terms(license_id: str | None) -> LicenseTerms:
    """The terms of a license id (case-insensitive); unknown or empty ids are `unspecified`."""
    key = (license_id or "").strip().lower()
    if key in _TERMS:
        use_class, attribution, share_alike = _TERMS[key]
        return LicenseTerms(key, use_class, attribution, share_alike)
    return LicenseTerms(key or "unknown", "unspecified", known=False)


def most_restrictive(classes: Iterable[str]) -> str:
    """The most restrictive of `classes` (`unspecified` when there are none)."""
    ranks = []
    for name in classes:
        if name not in LICENSE_CLASSES:
            msg = f"license class {name!r} is not one of {list(LICENSE_CLASSES)}"
            raise ValueError(msg)
        ranks.append(LICENSE_CLASSES.index(name))
    return LICENSE_CLASSES[max(ranks)] if ranks else "unspecified"


def use_allowed(use_class: str, use: str) -> bool:
    """Whether a release of `use_class` may be used for `use` (one of `USES`)."""
    if use_class not in _ALLOWED:
        msg = f"license class {use_class!r} is not one of {list(LICENSE_CLASSES)}"
        raise ValueError(msg)
    if use not in USES:
        msg = f"use {use!r} is not one of {list(USES)}"
        raise ValueError(msg)
    return use in _ALLOWED[use_class]
