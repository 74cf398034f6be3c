"""Install-time warm-up: compile the numba-heavy libraries once and check that the teacher runs.

Run as `python -m factory.postinstall`, the last step of `make install`; numba caches the compiled
code next to the packages. The teacher check decodes a few tokens with the embedded SmolLM2 in a
child process, so a llama.cpp build that crashes on this CPU fails the install with a message
instead of segfaulting a later run. The student's base model is dequantized from the packaged
GGUF into the user cache (`factory.home.shared_models()`), once for every project.
"""

from __future__ import annotations

import subprocess
import sys
import time

_TEACHER_SMOKE = """
import llama_cpp
from factory.models import smollm2_gguf_path
llm = llama_cpp.Llama(str(smollm2_gguf_path()), n_ctx=256, verbose=False, seed=0)
out = llm.create_chat_completion([{"role": "user", "content": "Say hello."}], max_tokens=8)
assert out["choices"][0]["message"]["content"] is not None
"""


def check_teacher() -> None:
    """Decode a few tokens with llama.cpp in a child process; exit with advice if it crashes."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _TEACHER_SMOKE], capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        sys.exit(
            f"llama.cpp could not decode with the embedded SmolLM2 (exit {result.returncode}):\n"
            f"{result.stderr[-2000:]}\n"
            "Rebuild it for this CPU: remove .venv and run `make install` with LLAMA_CMAKE_ARGS "
            "set for it (the Makefile's default is a portable AVX2 build)."
        )
    print(f"teacher check (llama.cpp decode) passed in {time.perf_counter() - start:.0f} s")


def warm_numba() -> None:
    """Build a map of 300 random vectors: compiles fast_hdbscan's and umap's kernels (the map's
    own call signatures) into numba's on-disk caches."""
    import numpy as np

    from factory.config import MapConfig
    from factory.mapping import build_map

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    ids = [f"warm-{i:03d}" for i in range(len(vectors))]
    texts = [f"warm-up document {i % 7} number {i}" for i in range(len(vectors))]
    start = time.perf_counter()
    build_map(ids, ["train"] * len(ids), vectors, texts, MapConfig())
    print(f"warmed numba caches (fast_hdbscan, umap) in {time.perf_counter() - start:.0f} s")


def prepare_student_base() -> None:
    """Dequantize the packaged SmolLM2 GGUF into the shared model cache (skipped when there)."""
    from factory.home import shared_models
    from factory.training import prepare_base_model

    start = time.perf_counter()
    info = prepare_base_model(None, shared_models())
    print(f"student base model ready in {info.path} ({time.perf_counter() - start:.0f} s)")


def main() -> None:
    warm_numba()
    check_teacher()
    prepare_student_base()


if __name__ == "__main__":
    main()
