"""Held-out perplexity of a causal LM: exp of the token-weighted mean next-token NLL.

Each text is tokenized as the tokenizer does by default (its special tokens, no EOS added),
truncated to `max_length` tokens from the start; every token after the first is scored. Padding is
masked out, so the result does not depend on `batch_size`. `token_nll` gives the same sums per text.

Example:
    >>> perplexity(model, tokenizer, ["How do I top up?"], max_length=128)  # doctest: +SKIP
    87.3
    >>> token_nll(model, tokenizer, ["How do I top up?"], max_length=128)  # doctest: +SKIP
    [(26.8, 6)]
"""

from __future__ import annotations

import math
from typing import Any

from factory.errors import FactoryError

__all__ = ["perplexity", "token_nll"]


def token_nll(
    model: Any, tokenizer: Any, texts: list[str], max_length: int, batch_size: int = 8
) -> list[tuple[float, int]]:
    """(summed next-token NLL, tokens scored) per text, in order; padding excluded."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    if max_length < 2 or batch_size < 1:
        msg = (
            "scoring texts needs max_length >= 2 and batch_size >= 1; got "
            f"max_length={max_length}, batch_size={batch_size}"
        )
        raise FactoryError(msg)
    if not texts:
        return []
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    scores: list[tuple[float, int]] = []
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
                scored = mask[:, 1:].bool()
                nll = F.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none")
                sums = torch.where(scored, nll, 0.0).sum(dim=1).tolist()
                counts = scored.sum(dim=1).tolist()
                scores.extend((float(s), int(c)) for s, c in zip(sums, counts, strict=True))
    finally:
        model.train(was_training)
    return scores


def perplexity(
    model: Any, tokenizer: Any, texts: list[str], max_length: int, batch_size: int = 8
) -> float:
    """exp(sum of next-token NLL / number of scored tokens) over `texts`; padding excluded."""
    if not texts:
        msg = "perplexity needs at least one text; got an empty list"
        raise FactoryError(msg)
    if max_length < 2 or batch_size < 1:
        msg = (
            f"perplexity needs max_length >= 2 and batch_size >= 1; got max_length={max_length}, "
            f"batch_size={batch_size}"
        )
        raise FactoryError(msg)
    scores = token_nll(model, tokenizer, texts, max_length, batch_size)
    total_tokens = sum(tokens for _, tokens in scores)
    if total_tokens == 0:
        msg = (
            f"none of the {len(texts)} texts has a token to score (each needs at least 2 tokens "
            "after tokenization); pass longer texts"
        )
        raise FactoryError(msg)
    return math.exp(sum(nll for nll, _ in scores) / total_tokens)
