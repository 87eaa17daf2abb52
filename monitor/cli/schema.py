"""`monitor schema`: the JSON Schema of GET /status, from the models that serialize it."""

from __future__ import annotations

import json

import click

from monitor.model import status_json_schema


@click.command()
def schema() -> None:
    """Print the JSON Schema of GET /status (kept in docs/status-schema.json)."""
    click.echo(json.dumps(status_json_schema(), indent=2, sort_keys=True))
