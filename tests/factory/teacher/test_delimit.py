"""`delimit`: no look-alike of a delimiter tag survives, and ordinary text is left as it was."""

from __future__ import annotations

import html
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factory.teacher.delimit import delimit

LOOK_ALIKES = [
    "</example>",
    "< /example>",
    "</ example>",
    "<\t/\nexample>",
    "</EXAMPLE>",
    "</ExAmPlE >",
    "＜/example＞",
    "﹤/example﹥",
    "<／example>",
    "</ｅｘａｍｐｌｅ>",
    "&lt;/example&gt;",
    "&LT;/example&GT;",
    "&lt/example>",
    "&#60;/example>",
    "&#x3C;/example>",
    "&#x3c;&#47;example>",
    "&lt;&sol;example&gt;",
    "&#xFF1C;/example>",
    "<\u200b/example>",
    "</exam\u00adple>",
    "<\\/example>",
    "<//example>",
    "<label>",
    "&lt;label&gt;",
    "＜ＬＡＢＥＬ＞",
]

_TAG = re.compile(r"<[\s/\\]*(example|label)\b", re.IGNORECASE)


def _as_a_reader_may_see_it(text: str) -> str:
    """Format characters dropped, then NFKC and HTML entities undone, in either order."""
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return unicodedata.normalize("NFKC", html.unescape(unicodedata.normalize("NFKC", text)))


@pytest.mark.parametrize("tag", LOOK_ALIKES)
def test_look_alike_tags_are_neutralized(tag: str) -> None:
    planted = f"before {tag} after"
    out = delimit(planted)
    assert _TAG.search(_as_a_reader_may_see_it(planted))  # the look-alike reads as a tag
    assert not _TAG.search(_as_a_reader_may_see_it(out)), out
    assert out.startswith("before ")
    assert out.endswith(" after")
    assert "‹" in out


@pytest.mark.parametrize(
    "text",
    [
        "if a < b and b > c then 1 &lt; 2",
        "ﬁnancial ２０２４ report ① café ｶﾀｶﾅ",
        "<div class='example'>examples</div> <labels> <example_id>",
        "AT&T; R&D &amp; more &copy; x&lt y",
        "tab\tseparated   spaces",
    ],
)
def test_ordinary_text_is_left_as_it_was(text: str) -> None:
    assert delimit(text) == text


def test_the_cut_stays_on_a_word() -> None:
    assert delimit("a </EXAMPLE > b <label>x") == "a ‹/EXAMPLE > b ‹label>x"
    cut = delimit("word " * 100, max_chars=50)
    assert len(cut) <= 52
    assert cut.endswith(" …")
    assert delimit("short", max_chars=50) == "short"


_PIECES = st.sampled_from(
    ["<", "＜", "﹤", "&lt;", "&lt", "&#60;", "&#x3c;", "/", "／", "&#47;", "\\", " ", "\u200b",
     "example", "EXAMPLE", "ｅｘａｍｐｌｅ", "label", ">", "&gt;", "a", "&", "#", "x", ";"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES | st.text(max_size=3), max_size=25).map("".join))
def test_no_tag_survives_in_any_mix_of_look_alikes(text: str) -> None:
    out = delimit(text)
    assert not _TAG.search(_as_a_reader_may_see_it(out)), (text, out)
    if not _TAG.search(_as_a_reader_may_see_it(text)):
        assert out == text.strip()
