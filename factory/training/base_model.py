"""The student's base model: a GGUF file dequantized once into a cached Hugging Face folder.

transformers loads a GGUF file (`gguf_file=`) by dequantizing it to fp32, which takes about 14 s
for SmolLM2-135M on 2 cores, and such a model cannot be saved or trained until its GGUF quantizer
is detached. `prepare_base_model` does that once, saves safetensors + config + tokenizer into
`cache_dir / "base-<16 hex of the GGUF hash>"` and reuses the folder afterwards (0.5 s to load).

Example:
    >>> info = prepare_base_model(None, Path(".factory/models"))  # doctest: +SKIP
    >>> info.path.name  # doctest: +SKIP
    'base-3f1c...'
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from factory.errors import BackendError, ConfigError
from factory.hashing import hash_file, hash_files

__all__ = ["BaseModelInfo", "model_fingerprint_files", "prepare_base_model"]

logger = logging.getLogger("factory.training")

_MARKER = "factory_base.json"
_HASHED_NAMES = frozenset(
    {
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "tokenizer.model",
        "vocab.json",
        "merges.txt",
    }
)
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".safetensors.index.json", ".bin.index.json")


@dataclass(frozen=True)
class BaseModelInfo:
    """A loadable Hugging Face causal-LM folder and the fingerprint of its weights."""

    path: Path
    fingerprint: str


def prepare_base_model(source: Path | str | None, cache_dir: Path) -> BaseModelInfo:
    """The base model as a HF folder: a GGUF file is dequantized once into `cache_dir`."""
    if source is None:
        from factory.models import smollm2_gguf_path

        source = smollm2_gguf_path()
    path = Path(source).expanduser()
    if not path.exists():
        msg = (
            f"student base model {str(path)!r} does not exist; set `student.base_model` to a GGUF "
            "file or a Hugging Face causal-LM folder, or leave it empty for the packaged SmolLM2"
        )
        raise ConfigError(msg)
    if path.is_dir():
        return _folder_model(path)
    if path.suffix.lower() != ".gguf":
        msg = (
            f"student base model {str(path)!r} is a file but not a .gguf file; pass a GGUF file "
            "or a Hugging Face causal-LM folder (with config.json and safetensors weights)"
        )
        raise ConfigError(msg)
    return _gguf_model(path, Path(cache_dir))


def model_fingerprint_files(folder: Path) -> list[Path]:
    """The weight, config and tokenizer files of a HF model folder, sorted."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and (p.name in _HASHED_NAMES or p.name.endswith(_WEIGHT_SUFFIXES))
    )


def _folder_model(folder: Path) -> BaseModelInfo:
    folder = folder.resolve()
    marker = folder / _MARKER
    if marker.is_file():
        # A folder this module dequantized keeps the fingerprint of its GGUF source.
        return BaseModelInfo(path=folder, fingerprint=json.loads(marker.read_text())["fingerprint"])
    files = model_fingerprint_files(folder)
    if not (folder / "config.json").is_file() or not any(
        f.name.endswith(_WEIGHT_SUFFIXES) for f in files
    ):
        found = sorted(p.name for p in folder.iterdir())[:10]
        msg = (
            f"folder {str(folder)!r} is not a Hugging Face model (needs config.json and "
            f"*.safetensors or *.bin weights; found {found}); point `student.base_model` at a "
            "saved causal-LM folder or a GGUF file"
        )
        raise ConfigError(msg)
    return BaseModelInfo(path=folder, fingerprint=hash_files(files, root=folder))


def _gguf_model(gguf: Path, cache_dir: Path) -> BaseModelInfo:
    gguf = gguf.resolve()
    digest = hash_file(gguf)
    target = cache_dir / f"base-{digest[:16]}"
    if (target / _MARKER).is_file():
        logger.info("reusing dequantized base model %s", target)
        return BaseModelInfo(path=target, fingerprint=digest)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f".{target.name}.tmp-") as tmp:
        staging = Path(tmp) / "model"
        logger.info("dequantizing %s into %s (once)", gguf, target)
        _dequantize(gguf, staging)
        marker = {"fingerprint": digest, "source": gguf.name, "kind": "gguf"}
        (staging / _MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n")
        try:
            os.rename(staging, target)
        except OSError:
            if not (target / _MARKER).is_file():
                raise
            # Another process finished first; its folder is complete, keep it.
            logger.info("base model %s was prepared concurrently; reusing it", target)
    return BaseModelInfo(path=target, fingerprint=digest)


def _dequantize(gguf: Path, out: Path) -> None:
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        msg = "training the student needs transformers; run `pip install 'factory-data[llm]'`"
        raise BackendError(msg) from exc
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except ImportError as exc:
        msg = f"cannot read GGUF file {str(gguf)!r}: {exc}; run `pip install 'factory-data[llm]'`"
        raise BackendError(msg) from exc
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        msg = (
            f"cannot load GGUF file {str(gguf)!r} with transformers: {reason}; use a GGUF of an "
            "architecture transformers supports (llama, mistral, qwen2, ...) or a HF folder"
        )
        raise BackendError(msg) from exc
    # The GGUF quantizer is only a loader here (weights are already fp32); detach it so
    # save_pretrained and the trainers accept the model.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
