"""Real traffic as a signal: Cloudflare's GraphQL Analytics read into `analytics` checks.

`query` builds the one batched query per interval (pure), `verdicts` turns its answer into one
verdict per service (pure, clock passed in), `client` is the shell that sends it, backs off on
429 and records the verdicts through the daemon, `series` exports the figures. docs/cloudflare.md
cites the documented datasets and fields this relies on.
"""
