"""The one `dg.Definitions` of the project; `workspace.yaml` and the CLI load it."""


import dagster as dg

from assets.corpus import corpus
from assets.embeddings import document_embeddings
from assets.io_managers import LanceIOManager, ParquetIOManager
from assets.resources import FactoryResource

__all__ = ["ALL_ASSETS", "build_resources", "defs"]

ALL_ASSETS = [corpus, document_embeddings]


def build_resources(config_path: str | None = None) -> dict[str, object]:
    """Resources for a given config file (None: $FACTORY_CONFIG, ./factory.yaml or defaults)."""
    factory = FactoryResource(config_path=config_path)
    return {
        "factory": factory,
        "io_manager": ParquetIOManager(factory=factory),
        "lance_io_manager": LanceIOManager(factory=factory),
    }


defs = dg.Definitions(assets=ALL_ASSETS, resources=build_resources())
