"""Constrained and greedy decoding for the evaluation: labels by a prefix trie, answers greedily.

`classify_batches` picks, at every step, only tokens that continue some label's token sequence
(each label tokenized as it follows the prompt in the training text, ended by EOS), so the
prediction is always a label. `answer_batches` generates greedily up to `max_new_tokens`. Both run
left-padded batches with the KV cache (see `factory.training.evaluate`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from factory.errors import BackendError, ConfigError
from factory.training.texts import TASK_TEMPLATES

__all__ = ["answer_batches", "classify_batches", "known_labels", "label_token_sequences"]

Allowed = Callable[[int, list[int]], list[int] | None]
"""(row, tokens generated so far) -> the token ids allowed next, or None for any."""


def label_token_sequences(tokenizer: Any, prompt: str, labels: list[str]) -> list[list[int]]:
    """Token ids of each label as it follows `prompt` in a training text, ending with EOS.

    Raises BackendError when the tokenized prompt is not a prefix of the tokenized training text
    (tokens merged across the boundary) or when two labels tokenize alike.

    Example:
        >>> label_token_sequences(tok, "Message: hi\\nIntent:", ["greet"])  # doctest: +SKIP
        [[40542, 2]]
    """
    eos = _eos(tokenizer)
    prompt_ids = list(tokenizer(prompt)["input_ids"])
    joint = tokenizer([_training_text(prompt, label) + eos for label in labels])["input_ids"]
    sequences = []
    for label, ids in zip(labels, joint, strict=True):
        _check_boundary(tokenizer, prompt_ids, list(ids), label)
        sequences.append(list(ids[len(prompt_ids) :]))
    seen: dict[tuple[int, ...], str] = {}
    for label, seq in zip(labels, sequences, strict=True):
        if tuple(seq) in seen:
            msg = (
                f"labels {seen[tuple(seq)]!r} and {label!r} tokenize to the same tokens {seq}; "
                "constrained decoding cannot tell them apart; merge or rename them"
            )
            raise BackendError(msg)
        seen[tuple(seq)] = label
    return sequences


def _training_text(prompt: str, label: str) -> str:
    """The classification training text whose prompt is `prompt` (the template's tail added)."""
    template = TASK_TEMPLATES["classification"]
    return prompt + template[template.rindex(": ") + 1 :].format(label=label)


def _eos(tokenizer: Any) -> str:
    eos = tokenizer.eos_token
    if eos is None or tokenizer.eos_token_id is None:
        msg = (
            f"tokenizer {type(tokenizer).__name__} has no EOS token; the trainer ends every "
            "training text with EOS and constrained decoding needs it to end a label"
        )
        raise BackendError(msg)
    return str(eos)


def _check_boundary(tokenizer: Any, prompt_ids: list[int], ids: list[int], label: str) -> None:
    eos_id = tokenizer.eos_token_id
    if (
        ids[: len(prompt_ids)] == prompt_ids
        and len(ids) > len(prompt_ids) + 1
        and ids[-1] == eos_id
    ):
        return
    split = next(
        (i for i, (a, b) in enumerate(zip(prompt_ids, ids, strict=False)) if a != b),
        min(len(prompt_ids), len(ids)),
    )
    msg = (
        f"the tokenizer does not split the training text at the prompt/label boundary for label "
        f"{label!r}: the prompt alone tokenizes to ...{prompt_ids[max(0, split - 2) : split + 2]} "
        f"but within the text to ...{ids[max(0, split - 2) : split + 2]} (or the label + EOS is "
        "not at the end); constrained decoding would not match training; use a tokenizer that "
        "splits before the label (byte-level BPE such as SmolLM2's does)"
    )
    raise BackendError(msg)


def known_labels(labels: list[str] | None) -> list[str]:
    """The distinct, non-empty labels, sorted; a ConfigError when there are none."""
    clean = sorted({str(label) for label in (labels or []) if label is not None and str(label)})
    if not clean:
        msg = (
            f"classification evaluation needs the label set; got {labels!r}; pass the train "
            "split's labels"
        )
        raise ConfigError(msg)
    return clean


def classify_batches(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    texts: list[str],
    references: list[str],
    labels: list[str],
    max_length: int,
    batch_size: int,
    advance: Callable[[], None],
) -> list[str]:
    sequences = label_token_sequences(tokenizer, prompts[0], labels)
    allowed: dict[tuple[int, ...], set[int]] = {}
    complete: dict[tuple[int, ...], int] = {}
    for index, seq in enumerate(sequences):
        for i in range(len(seq)):
            allowed.setdefault(tuple(seq[:i]), set()).add(seq[i])
        complete[tuple(seq)] = index
    choices = {prefix: sorted(ids) for prefix, ids in allowed.items()}
    encoded = [list(ids) for ids in tokenizer(prompts)["input_ids"]]
    # Every example's own training text must tokenize as its prompt + its label's tokens.
    eos = _eos(tokenizer)
    for prompt_ids, ids, ref in zip(
        encoded, tokenizer([t + eos for t in texts])["input_ids"], references, strict=True
    ):
        _check_boundary(tokenizer, prompt_ids, list(ids), ref)
        if ref in labels and list(ids[len(prompt_ids) :]) != sequences[labels.index(ref)]:
            msg = (
                f"label {ref!r} tokenizes differently after different prompts "
                f"({list(ids[len(prompt_ids) :])} vs {sequences[labels.index(ref)]}); "
                "constrained decoding needs one token sequence per label"
            )
            raise BackendError(msg)

    def allow(_: int, generated: list[int]) -> list[int] | None:
        return choices.get(tuple(generated), [int(tokenizer.eos_token_id)])

    steps = max(len(s) for s in sequences)
    outputs = _greedy_batches(
        model, tokenizer, encoded, max_length, steps, batch_size, allow, advance
    )
    predictions = []
    for out in outputs:
        if tuple(out) not in complete:  # cannot happen: every path of the trie ends in a label
            msg = f"constrained decoding produced tokens {out} that are no label; please report it"
            raise BackendError(msg)
        predictions.append(labels[complete[tuple(out)]])
    return predictions


def answer_batches(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    max_length: int,
    max_new_tokens: int,
    batch_size: int,
    advance: Callable[[], None],
) -> list[str]:
    _eos(tokenizer)
    encoded = [list(ids) for ids in tokenizer(prompts)["input_ids"]]
    outputs = _greedy_batches(
        model, tokenizer, encoded, max_length, max_new_tokens, batch_size, None, advance
    )
    eos_id = tokenizer.eos_token_id
    answers = []
    for out in outputs:
        ids = out[: out.index(eos_id)] if eos_id in out else out
        answers.append(str(tokenizer.decode(ids, skip_special_tokens=True)).strip())
    return answers


def _greedy_batches(
    model: Any,
    tokenizer: Any,
    encoded: list[list[int]],
    max_length: int,
    steps: int,
    batch_size: int,
    allow: Allowed | None,
    advance: Callable[[], None],
) -> list[list[int]]:
    """Greedy continuations of `encoded` prompts, batched by length, in the original order."""
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    results: list[list[int]] = [[] for _ in encoded]
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        prompts = [encoded[i][-max_length:] for i in rows]
        outs = _greedy(model, tokenizer, prompts, steps, allow)
        for i, out in zip(rows, outs, strict=True):
            results[i] = out
        advance()
    return results


def _greedy(
    model: Any, tokenizer: Any, prompts: list[list[int]], steps: int, allow: Allowed | None
) -> list[list[int]]:
    """Greedy decoding of one left-padded batch with the KV cache; stops at EOS per row."""
    import torch

    device = next(model.parameters()).device
    eos_id = int(tokenizer.eos_token_id)
    pad_id = int(tokenizer.pad_token_id) if tokenizer.pad_token_id is not None else eos_id
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p, dtype=torch.long)
        mask[i, width - len(p) :] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    generated: list[list[int]] = [[] for _ in prompts]
    finished = [False] * len(prompts)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
            for step in range(steps):
                logits = out.logits[:, -1, :].float()
                if allow is not None:
                    bias = torch.full_like(logits, float("-inf"))
                    for i, tokens in enumerate(generated):
                        permitted = allow(i, tokens)
                        if permitted is None:
                            bias[i] = 0.0
                        else:
                            bias[i, permitted] = 0.0
                    logits = logits + bias
                chosen = logits.argmax(dim=1).tolist()
                for i, token in enumerate(chosen):
                    if not finished[i]:
                        generated[i].append(int(token))
                        finished[i] = int(token) == eos_id
                if all(finished) or step == steps - 1:
                    break
                feed = torch.tensor(
                    [pad_id if f else t for f, t in zip(finished, chosen, strict=True)],
                    dtype=torch.long,
                    device=device,
                )
                mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
                positions = positions[:, -1:] + 1
                out = model(
                    input_ids=feed[:, None],
                    attention_mask=mask,
                    position_ids=positions,
                    past_key_values=out.past_key_values,
                    use_cache=True,
                )
    finally:
        model.train(was_training)
    return generated
