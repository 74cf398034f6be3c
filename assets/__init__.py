"""The application layer: Dagster assets, resources, IO managers, definitions and the CLI."""
