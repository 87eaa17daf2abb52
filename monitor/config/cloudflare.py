"""`cloudflare:`: where the fleet's real-traffic analytics come from (docs/cloudflare.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator

from monitor.config.fields import BASE_URL, Duration, Secret, Strict, expand_secret
from monitor.secrets_scrub import without_userinfo

MIN_CLOUDFLARE_INTERVAL = 60.0
CLOUDFLARE_GRAPHQL_URL = "https://api.cloudflare.com/client/v4/graphql"


class CloudflareConfig(Strict):
    """Cloudflare's GraphQL Analytics API: one batched query per `interval` for the fleet."""

    account_id: Annotated[
        str, BeforeValidator(lambda v, info: expand_secret(v, info).get_secret_value())
    ]
    api_token: Secret
    interval: Duration = Field(default=60.0, gt=0)
    api_url: str = CLOUDFLARE_GRAPHQL_URL
    backlog_intervals: int = Field(default=3, ge=2, le=60)
    """A queue whose backlog rose over this many intervals with no consumption is growing."""

    @field_validator("api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        if not BASE_URL.fullmatch(value):
            raise ValueError(
                f"expected an http:// or https:// URL, got {without_userinfo(value)!r}"
            )
        return value
