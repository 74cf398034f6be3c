"""IO managers: Parquet for tables, LanceDB for vectors, both under the project home."""

import dagster as dg
import polars as pl

from assets.resources import FactoryResource
from factory.embedding import EmbeddingStore
from factory.errors import FactoryError
from factory.storage import read_table, write_table

__all__ = ["LanceIOManager", "ParquetIOManager"]


class ParquetIOManager(dg.ConfigurableIOManager):
    """Stores each asset's polars frame as `HOME/tables/<asset>.parquet`; a partitioned asset
    (a failure-loop round) as `HOME/tables/<asset>/<partition>.parquet`."""

    factory: dg.ResourceDependency[FactoryResource]

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        partition = context.asset_partition_key if context.has_asset_partitions else None
        path = write_table(self.factory.home, _table_name(context.asset_key), obj, partition)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        partition = context.asset_partition_key if context.has_asset_partitions else None
        frame = read_table(self.factory.home, _table_name(context.asset_key), partition)
        if frame is None:
            name = context.asset_key.to_user_string()
            where = f" partition {partition!r}" if partition is not None else ""
            msg = f"table {name!r}{where} was never written; materialize it first"
            raise FactoryError(msg)
        return frame


def _table_name(key: dg.AssetKey) -> str:
    return "__".join(key.path)


class LanceIOManager(dg.ConfigurableIOManager):
    """Stores vector tables in the project's LanceDB database (`HOME/lancedb`)."""

    factory: dg.ResourceDependency[FactoryResource]

    def _store(self) -> EmbeddingStore:
        return EmbeddingStore(self.factory.home.lancedb)

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        self._store().write_embeddings(obj)
        uri = self.factory.home.lancedb
        context.add_output_metadata({"lancedb": dg.MetadataValue.path(str(uri))})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        return self._store().read_embeddings()
