"""llama.cpp's OpenAI-compatible server, with answers that depend only on the request.

Stock `llama_cpp.server` keeps the previous request's KV cache and re-evaluates only the part of
a new prompt after the longest common prefix. The logits then come from differently shaped
batches, and at a near-tie the sampler can pick another token: the same request with the same
seed gets a different answer depending on what was asked before (measured: 2 of 24 answers on
banking77 prompts). Here every completion evaluates its prompt from position 0, so an answer is
a function of (prompt, sampling parameters, seed): a resumed or fault-ridden run asks the same
questions and gets the same answers. Costs one prompt evaluation per request.

Run as `python -m factory.llama_server ARGS` with the arguments of `python -m llama_cpp.server`.
"""

from __future__ import annotations

import functools
import runpy
from typing import Any

__all__ = ["main", "reset_before_each_completion"]


def reset_before_each_completion() -> None:
    """Make `llama_cpp.Llama.create_completion` start from an empty context every time."""
    import llama_cpp

    original = llama_cpp.Llama.create_completion
    if getattr(original, "_factory_resets", False):
        return

    @functools.wraps(original)
    def create_completion(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.reset()
        return original(self, *args, **kwargs)

    create_completion._factory_resets = True  # type: ignore[attr-defined]
    llama_cpp.Llama.create_completion = create_completion  # type: ignore[method-assign]


def main() -> None:
    """Patch, then run `llama_cpp.server` as if started with `python -m`."""
    reset_before_each_completion()
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
