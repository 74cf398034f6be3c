"""PII detection: each kind found by pattern and checksum, look-alikes ignored, real text clean."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from checks.privacy import PII_KINDS, PiiMatch, find_pii, pii_counts, pii_kinds, redact_pii


def _found(text: str) -> list[tuple[str, str]]:
    return [(m.kind, text[m.start : m.end]) for m in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "kind", "span"),
    [
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "iban", "GB82 WEST 1234 5698 7654 32"),
        ("send to DE89 3704 0044 0532 0130 00.", "iban", "DE89 3704 0044 0532 0130 00"),
        ("compact DE89370400440532013000", "iban", "DE89370400440532013000"),
        ("lower case gb82west12345698765432", "iban", "gb82west12345698765432"),
        ("FR: FR14 2004 1010 0505 0001 3M02 606", "iban", "FR14 2004 1010 0505 0001 3M02 606"),
        ("card 4111 1111 1111 1111 expires soon", "card", "4111 1111 1111 1111"),
        ("card 5500-0000-0000-0004", "card", "5500-0000-0000-0004"),
        ("card 4111111111111111", "card", "4111111111111111"),
        ("amex 3782 822463 10005", "card", "3782 822463 10005"),
        ("mail jo.doe+bank@example.co.uk now", "email", "jo.doe+bank@example.co.uk"),
        ("<support@bank-x.com>", "email", "support@bank-x.com"),
        ("call +44 20 7946 0958 today", "phone", "+44 20 7946 0958"),
        ("call +1 (555) 123-4567", "phone", "+1 (555) 123-4567"),
        ("call +49-30-1234567", "phone", "+49-30-1234567"),
        ("call +33.1.23.45.67.89", "phone", "+33.1.23.45.67.89"),
        ("call (555) 123-4567", "phone", "(555) 123-4567"),
        ("call 555-123-4567", "phone", "555-123-4567"),
        ("call 555.123.4567", "phone", "555.123.4567"),
        ("call 1-800-555-0199", "phone", "1-800-555-0199"),
        ("call 020 7946 0958", "phone", "020 7946 0958"),
        ("call 07700 900123", "phone", "07700 900123"),
    ],
)
def test_finds_each_kind(text: str, kind: str, span: str) -> None:
    assert _found(text) == [(kind, span)]


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # fails Luhn
        "card 1234567812345678",  # fails Luhn
        "IBAN GB82 WEST 1234 5698 7654 33",  # wrong check digits
        "IBAN GB83 WEST 1234 5698 7654 32",  # wrong check digits
        "IBAN DE89 3704 0044 0532 0130",  # right country, wrong length
        "I paid 1,500.00 yesterday",
        "Why did I only get $20 when I asked for $100?",
        "on 2024-01-15 at 10:30",
        "on 15/01/2024 at 10:30:15",
        "my card ending in 1234",
        "transfer of 250000",
        "since 2019, code 123456, PIN 0000",
        "version 1.2.3.4 and 12.345.678",
        "ref 41111111111111112345678",  # a card-like prefix of a longer digit run
        "ABC4111111111111111",  # digits glued to letters
        "not an email: jo@localhost or @handle",
    ],
)
def test_look_alikes_are_not_pii(text: str) -> None:
    assert find_pii(text) == []


def test_matches_are_sorted_spans() -> None:
    text = "a@b.io, 4111 1111 1111 1111, +44 20 7946 0958"
    assert find_pii(text) == [
        PiiMatch("email", 0, 6),
        PiiMatch("card", 8, 27),
        PiiMatch("phone", 29, 45),
    ]


def test_overlaps_go_to_the_specific_kind() -> None:
    # A card number in a phone-like layout is a card; an IBAN's digits are never a card or phone.
    assert _found("+4111 1111 1111 1111") == [("card", "4111 1111 1111 1111")]
    assert _found("DE89 3704 0044 0532 0130 00") == [("iban", "DE89 3704 0044 0532 0130 00")]
    # Digits inside an address are part of the email.
    assert _found("+447700900123@sms.example.com") == [("email", "+447700900123@sms.example.com")]


def test_iban_stops_at_its_country_length() -> None:
    text = "GB82 WEST 1234 5698 7654 32 1234 thanks"
    assert _found(text) == [("iban", "GB82 WEST 1234 5698 7654 32")]


def test_redaction_replaces_each_span() -> None:
    text = (
        "Mail jo@example.com, call (555) 123-4567, pay GB82 WEST 1234 5698 7654 32 "
        "with 5500-0000-0000-0004."
    )
    assert redact_pii(text) == "Mail [EMAIL], call [PHONE], pay [IBAN] with [CARD]."
    assert redact_pii("nothing to hide, $20 on 2024-01-15") == "nothing to hide, $20 on 2024-01-15"


def test_none_and_empty() -> None:
    assert find_pii(None) == []
    assert find_pii("") == []
    assert redact_pii(None) is None
    assert redact_pii("") == ""
    assert pii_kinds([None, ""]) == [(), ()]
    assert pii_counts([]) == dict.fromkeys(PII_KINDS, 0)


def test_kinds_and_counts_over_texts() -> None:
    texts = [
        "a@b.io and c@d.org",
        "4111 1111 1111 1111 or call 555-123-4567",
        "fine",
        None,
    ]
    assert pii_kinds(texts) == [("email",), ("card", "phone"), (), ()]
    assert pii_counts(texts) == {"card": 1, "email": 2, "iban": 0, "phone": 1}
    assert list(pii_counts(texts)) == list(PII_KINDS)


def test_banking77_train_has_almost_no_false_positives(banking77_dir: Path) -> None:
    texts = pl.read_csv(banking77_dir / "train.csv")["text"].to_list()
    kinds = pii_kinds(texts)
    flagged = [(t, k) for t, k in zip(texts, kinds, strict=True) if k]
    rate = len(flagged) / len(texts)
    print(
        f"\nbanking77 train: {len(flagged)}/{len(texts)} texts with PII ({rate:.4%}); "
        f"counts {pii_counts(texts)}; examples {flagged[:5]}"
    )
    assert len(texts) > 9000
    assert rate <= 0.005
