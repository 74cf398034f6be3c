"""llama.cpp's OpenAI-compatible server, with answers that depend only on the request.

Stock `llama_cpp.server` keeps the previous request's KV cache and re-evaluates only the part of
a new prompt after the longest common prefix. The rest is then evaluated in batches that start
at another position, and at a near-tie the sampler can pick another token: the same request with
the same seed gets a different answer depending on what was asked before (measured: 2 of 24
answers on banking77 prompts).

Here the prefix that is reused is cut down to a multiple of the batch size (`--n_batch`) and
never reaches past the previous request's prompt (its generated tokens were evaluated one by
one). Every prompt token is then evaluated in the same aligned batch, after the same cached
tokens, as in a fresh run, so an answer is a function of (prompt, sampling parameters, seed),
while the shared system prompt and a target's repeated prompts still come from the cache.

Run as `python -m factory.llama_server ARGS` with the arguments of `python -m llama_cpp.server`.
"""

from __future__ import annotations

import functools
import runpy
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["align_prefix_reuse", "aligned_prefix", "main"]


def aligned_prefix(previous: Sequence[int], prompt: Sequence[int], batch: int) -> int:
    """Tokens of `prompt` that may come from the cache: the common prefix with the previous
    prompt, short of the last prompt token, rounded down to a multiple of `batch`."""
    common = 0
    for a, b in zip(previous, prompt, strict=False):
        if a != b:
            break
        common += 1
    common = min(common, len(prompt) - 1)
    return max(0, common // batch * batch)


def align_prefix_reuse() -> None:
    """Patch `llama_cpp.Llama.generate` to reuse only aligned prompt prefixes."""
    import llama_cpp

    original = llama_cpp.Llama.generate
    if getattr(original, "_factory_aligned", False):
        return

    @functools.wraps(original)
    def generate(self: Any, tokens: Sequence[int], *args: Any, **kwargs: Any) -> Iterator[int]:
        tokens = list(tokens)
        if not kwargs.get("reset", True):
            yield from original(self, tokens, *args, **kwargs)
            return
        previous = list(self._input_ids[: min(self.n_tokens, getattr(self, "_prompt_len", 0))])
        keep = aligned_prefix(previous, tokens, self.n_batch)
        self._prompt_len = len(tokens)
        if keep > 0 and self._ctx.kv_cache_seq_rm(-1, keep, -1):
            self.n_tokens = keep
            kwargs["reset"] = False
            yield from original(self, tokens[keep:], *args, **kwargs)
            return
        self.reset()  # nothing reusable: evaluate from position 0, as a fresh server would
        yield from original(self, tokens, *args, **kwargs)

    generate._factory_aligned = True  # type: ignore[attr-defined]
    llama_cpp.Llama.generate = generate  # type: ignore[method-assign]


def main() -> None:
    """Patch, then run `llama_cpp.server` as if started with `python -m`."""
    align_prefix_reuse()
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
