"""Held-out perplexity of a causal LM: exp of the token-weighted mean next-token NLL.

Each text is tokenized as the tokenizer does by default (its special tokens, no EOS added),
truncated to `max_length` tokens from the start; every token after the first is scored. Padding is
masked out, so the result does not depend on `batch_size`.

Example:
    >>> perplexity(model, tokenizer, ["How do I top up?"], max_length=128)  # doctest: +SKIP
    87.3
"""

from __future__ import annotations

import math
from typing import Any

from factory.errors import FactoryError

__all__ = ["perplexity"]


def perplexity(
    model: Any, tokenizer: Any, texts: list[str], max_length: int, batch_size: int = 8
) -> float:
    """exp(sum of next-token NLL / number of scored tokens) over `texts`; padding excluded."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    if not texts:
        msg = "perplexity needs at least one text; got an empty list"
        raise FactoryError(msg)
    if max_length < 2 or batch_size < 1:
        msg = (
            f"perplexity needs max_length >= 2 and batch_size >= 1; got max_length={max_length}, "
            f"batch_size={batch_size}"
        )
        raise FactoryError(msg)
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total_nll = 0.0
    total_tokens = 0
    try:
        with torch.inference_mode():
            for start in range(0, len(encoded), batch_size):
                rows = encoded[start : start + batch_size]
                width = max(len(r) for r in rows)
                ids = torch.zeros((len(rows), width), dtype=torch.long)
                mask = torch.zeros((len(rows), width), dtype=torch.long)
                for i, row in enumerate(rows):
                    ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
                    mask[i, : len(row)] = 1
                ids, mask = ids.to(device), mask.to(device)
                logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
                targets = ids[:, 1:]
                scored = mask[:, 1:].bool()
                nll = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
                total_nll += float(nll[scored].sum())
                total_tokens += int(scored.sum())
    finally:
        model.train(was_training)
    if total_tokens == 0:
        msg = (
            f"none of the {len(texts)} texts has a token to score (each needs at least 2 tokens "
            "after tokenization); pass longer texts"
        )
        raise FactoryError(msg)
    return math.exp(total_nll / total_tokens)
