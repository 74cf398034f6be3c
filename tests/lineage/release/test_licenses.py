"""License use classes: most restrictive wins; unknown blocks commercial use."""

import pytest

from lineage.release.licenses import LICENSE_CLASSES, license_terms, most_restrictive, use_allowed


def test_known_licenses_map_to_their_class() -> None:
    assert license_terms("CC-BY-4.0").use_class == "commercial"
    assert license_terms("cc-by-4.0").attribution
    assert license_terms("CC-BY-SA-4.0").share_alike
    assert license_terms("cc-by-nc-4.0").use_class == "non-commercial"
    assert license_terms("openai-terms").use_class == "non-commercial"


def test_unknown_or_missing_license_is_unspecified() -> None:
    for value in (None, "", "  ", "my-own-license"):
        terms = license_terms(value)
        assert terms.use_class == "unspecified"
        assert not terms.known


def test_most_restrictive_class_wins() -> None:
    assert most_restrictive(["commercial", "commercial"]) == "commercial"
    assert most_restrictive(["commercial", "unspecified"]) == "unspecified"
    assert most_restrictive(["non-commercial", "academic-only", "commercial"]) == "academic-only"
    assert most_restrictive([]) == "unspecified"
    with pytest.raises(ValueError, match="not one of"):
        most_restrictive(["free"])


def test_use_allowed_follows_the_class() -> None:
    assert use_allowed("commercial", "commercial")
    assert not use_allowed("unspecified", "commercial")
    assert use_allowed("unspecified", "non-commercial")
    assert not use_allowed("academic-only", "non-commercial")
    assert use_allowed("academic-only", "academic")
    assert set(LICENSE_CLASSES) == {"commercial", "unspecified", "non-commercial", "academic-only"}
    with pytest.raises(ValueError, match="use 'resale'"):
        use_allowed("commercial", "resale")
