"""What the commands share: the `--config` option, loading the config, the consoles, errors."""

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from factory.config import FactoryConfig, load_config

__all__ = [
    "ConfigOption",
    "config_path",
    "console",
    "errors",
    "load",
    "prepare_instance",
    "print_error",
    "quiet_libraries",
]

console = Console(soft_wrap=True)  # piped or logged lines stay whole, never cut at 80 columns
errors = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Path to factory.yaml (default: ./factory.yaml or built-in defaults).",
    ),
]


def load(config: Path | None) -> FactoryConfig:
    """The config at `config`, else ./factory.yaml when present, else the built-in defaults."""
    if config is None and Path("factory.yaml").is_file():
        config = Path("factory.yaml")
    return load_config(config)


def config_path(config: Path | None) -> str | None:
    """`--config` as an absolute path for the Dagster resources (None: their own default)."""
    return str(Path(config).resolve()) if config else None


def prepare_instance(cfg: FactoryConfig, config: Path | None) -> Path:
    """Point $DAGSTER_HOME at the project's instance (and $FACTORY_CONFIG at `config`)."""
    from assets.instance import dagster_home
    from assets.resources import CONFIG_ENV

    home = dagster_home(cfg)
    os.environ["DAGSTER_HOME"] = str(home)
    if config is not None:
        os.environ[CONFIG_ENV] = str(Path(config).resolve())
    return home


def quiet_libraries() -> None:
    """Hide library warnings, logs and progress bars (model loading, dataset mapping) for the
    rest of the process; the factory's own lines and bars still print."""
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    os.environ.setdefault("TQDM_DISABLE", "1")  # read when tqdm is imported
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers, the Hub
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DATASETS_VERBOSITY", "error")
    for name in ("transformers", "datasets", "sentence_transformers", "lancedb", "httpx"):
        logging.getLogger(name).setLevel(logging.ERROR)


def print_error(message: str, code: int = 1) -> int:
    """Print `error: message` on stderr, on one line; return `code` (the exit status)."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return code
