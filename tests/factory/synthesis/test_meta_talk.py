"""The meta-talk filter: teacher talk about the task is caught, real corpus rows pass."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from factory.config import FactoryConfig, SourceConfig
from factory.corpus.stdlib import read_stdlib
from factory.synthesis.meta_talk import meta_talk

TALK = [
    # seen in the demo's accepted rows before the filter existed
    "This is an example of a new passage that I can use to answer your question about the "
    "server-server protocol.",
    "Here's another passage that covers the same domain in a different way. This time, I'll "
    "talk about how to implement a queue.",
    "This is a new passage that uses the example data from the examples collection.",
    "The key difference between the original example and this one is that it uses a loop.",
    "Hello, my name is [Your Name] and I am a Python developer.",
    "To add a new item, please provide a [item description] that explains it.",
    "**Example 1: Inserting item x to a list in sorted order**",
    "Your new passage is ready!",
    "Sure! Here is a new message for the label card_arrival: where is my card?",
    "As an AI language model, I cannot browse your account.",
    "I have written a similar message below: how do I top up?",
    "This is a sample response that you may not expect.",
    "This is a different way to express the same idea: use a disposable card.",
    "That is a valid question, I think it's possible to cancel it.",
]
REAL = [
    "How do I freeze my card while I am abroad?",
    "Okay, I found my card, can I put it back in the app?",
    "Please let me know if there is any issue in the system.",
    "Here's an example which sets the Path attribute of a cookie.",
    "Invalid when used anywhere except as in the example above.",
    "Return sys.modules[name].__spec__ when the module was imported.",
    'The data are enclosed in parentheses, eg: "(UID BODY[TEXT])".',
    "Combine one of the server classes with your request handler class.",
    "I got another message from the bank about my new card.",
]


@pytest.mark.parametrize("text", TALK)
def test_talk_about_the_task_is_caught(text: str) -> None:
    assert meta_talk(text) is not None


@pytest.mark.parametrize("text", REAL)
def test_domain_text_that_looks_alike_passes(text: str) -> None:
    assert meta_talk(text) is None


def test_false_positives_on_the_standard_library_docs_stay_under_one_percent(
    tmp_path: Path,
) -> None:
    config = FactoryConfig.from_dict({}, base_dir=tmp_path)
    texts = [str(r.fields["text"]) for r in read_stdlib(SourceConfig(), config) if r.fields]
    assert len(texts) > 2000
    hits = [t for t in texts if meta_talk(t) is not None]
    assert len(hits) / len(texts) < 0.01, hits[:5]


def test_false_positives_on_banking77_stay_under_one_percent(banking77_dir: Path) -> None:
    texts = []
    for name in ("train.csv", "test.csv"):
        texts += pl.read_csv(banking77_dir / name)["text"].to_list()
    hits = [t for t in texts if meta_talk(t) is not None]
    assert len(hits) / len(texts) < 0.01, hits[:5]
