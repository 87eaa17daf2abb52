"""Discovery from wrangler files: the fixture repository mirrors the seed's workers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.cli.fleet_draft import (
    PLACEHOLDER_DOMAIN,
    Discovery,
    discover_fleet,
    discover_from_configs,
    render_yaml,
)
from monitor.cli.wrangler import Route, route_url, workers_from_configs
from monitor.config import parse_config

FIXTURE = Path(__file__).parent / "fixtures" / "workers"


def _services(discovery: Discovery) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in discovery.config["services"]}


@pytest.fixture(scope="module")
def fleet() -> Discovery:
    return discover_fleet(FIXTURE, subdomain="example")


def test_fixture_output_is_a_valid_monitor_config(fleet: Discovery) -> None:
    config = parse_config(render_yaml(fleet), "discovered.yaml", env={})
    assert sorted(s.name for s in config.services) == [
        "auth",
        "do-db",
        "do-deploy",
        "do-gateway",
        "do-mcp",
        "do-schedule",
        "email",
        "queue",
        "webhooks",
    ]
    assert all(s.labels == {"source": "wrangler"} for s in config.services)
    assert all(s.health_path is None for s in config.services)  # the default applies
    assert config.service("do-db") is not None
    assert config.service("do-db").url == "https://do-db.example.workers.dev"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("service", "depends_on"),
    [
        ("do-gateway", ["do-db", "auth", "queue"]),
        ("auth", ["do-db"]),
        ("do-mcp", ["do-db", "auth"]),
        ("do-schedule", ["queue"]),  # trailing commas and a leading comment
        ("webhooks", ["queue"]),  # wrangler.toml [[services]]
        ("email", ["do-db"]),
        ("do-db", []),
        ("queue", []),
        ("do-deploy", []),  # plain wrangler.json
    ],
)
def test_depends_on_follows_service_bindings(
    fleet: Discovery, service: str, depends_on: list[str]
) -> None:
    assert _services(fleet)[service].get("depends_on", []) == depends_on


def test_binding_to_a_worker_outside_the_repository_is_reported(fleet: Discovery) -> None:
    [warning] = [w for w in fleet.warnings if "'AI'" in w]
    assert warning.startswith("do-gateway: could not resolve service binding 'AI'")
    assert "target script 'ai'" in warning
    assert "ai" not in _services(fleet)["do-gateway"]["depends_on"]


def test_commented_out_routes_are_ignored(fleet: Discovery) -> None:
    services = _services(fleet)
    assert services["email"]["url"] == "https://email.example.workers.dev"
    assert services["do-db"]["url"] == "https://do-db.example.workers.dev"
    assert not any("email.example.com" in w or "db.example.com" in w for w in fleet.warnings)


def test_wildcard_only_worker_is_skipped_with_a_warning(fleet: Discovery) -> None:
    assert "dispatcher" not in _services(fleet)
    assert any(w.startswith("dispatcher: no usable route") for w in fleet.warnings)


def test_render_yaml_lists_warnings_in_the_header(fleet: Discovery) -> None:
    text = render_yaml(fleet)
    header = text.split("services:", 1)[0]
    assert f"# Warnings ({len(fleet.warnings)}):" in header
    assert "could not resolve service binding 'AI'" in header
    assert "  # webhooks/wrangler.toml: url from workers.dev" in text


def test_without_subdomain_urls_are_placeholders_that_never_resolve() -> None:
    discovery = discover_fleet(FIXTURE)
    services = _services(discovery)
    assert services["auth"]["url"] == f"https://auth.{PLACEHOLDER_DOMAIN}"
    assert PLACEHOLDER_DOMAIN.endswith(".invalid")
    [warning] = [w for w in discovery.warnings if "no workers.dev subdomain" in w]
    assert "auth, do-db, do-deploy" in warning
    parse_config(render_yaml(discovery), env={})


def test_env_section_applies_wrangler_inheritance() -> None:
    discovery = discover_fleet(FIXTURE, subdomain="example", env="production")
    services = _services(discovery)
    # env name is <name>-<env>; env routes replace the top-level ones
    assert services["do-gateway-production"]["url"] == "https://api.example.com"
    assert services["queue-production"]["url"] == "https://queue.example.com"
    # bindings are not inherited: only the env's own (DB, QUEUE@production) count
    assert services["do-gateway-production"]["depends_on"] == ["do-db", "queue-production"]
    assert not any("'AI'" in w for w in discovery.warnings)
    # workers without the section keep their top-level config, and that is said once
    assert services["do-db"]["url"] == "https://do-db.example.workers.dev"
    assert discovery.warnings[0].startswith("no env.production section in auth/wrangler.jsonc")
    parse_config(render_yaml(discovery), env={})


def test_env_staging_route_string() -> None:
    services = _services(discover_fleet(FIXTURE, subdomain="example", env="staging"))
    assert services["queue-staging"]["url"] == "https://queue-staging.example.com"


def test_repository_root_with_workers_dir(tmp_path: Path) -> None:
    worker = tmp_path / "workers" / "db"
    worker.mkdir(parents=True)
    (worker / "wrangler.jsonc").write_text('{"name": "do-db", // c\n}', encoding="utf-8")
    (tmp_path / "workers" / "node_modules").mkdir()
    discovery = discover_fleet(tmp_path, subdomain="acme")
    assert discovery.config["services"][0]["url"] == "https://do-db.acme.workers.dev"
    assert discovery.notes["do-db"] == "workers/db/wrangler.jsonc: url from workers.dev"


def test_empty_directory_is_reported(tmp_path: Path) -> None:
    discovery = discover_fleet(tmp_path, subdomain="acme")
    assert discovery.config == {"services": []}
    assert discovery.warnings[0].startswith("no wrangler.json/.jsonc/.toml found")
    assert parse_config(render_yaml(discovery), env={}).services == []


@pytest.mark.parametrize(
    ("route", "url"),
    [
        (Route("example.com/*"), "https://example.com"),
        (Route("example.com*"), None),  # a wildcard only ends the path
        (Route("api.example.com/v1/*"), "https://api.example.com/v1"),
        (Route("https://example.com/*"), "https://example.com"),
        (Route("example.com"), "https://example.com"),
        (Route("email.example.com", custom_domain=True), "https://email.example.com"),
        (Route("email.example.com/*", custom_domain=True), None),  # refused by Cloudflare too
        (Route("*.example.com/*"), None),
        (Route("*example.com/*"), None),
        (Route("exa mple.com/*"), None),
    ],
)
def test_route_url(route: Route, url: str | None) -> None:
    assert route_url(route) == url


JSONC_TRICKS = """
// leading comment
{
  /* block
     comment */
  "name": "tricky", // trailing comment
  "routes": [
    // "disabled.example.com/*",
    { "pattern": "live.example.com/*", "zone_name": "example.com", },
  ],
  "vars": { "URL": "https://not-a-comment.example.com//x" },
  "services": [{ "binding": "X", "service": "other", },],
}
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"w/wrangler.jsonc": JSONC_TRICKS},
            {"tricky": "https://live.example.com"},
            id="jsonc-comments-trailing-commas",
        ),
        pytest.param(
            {"w/wrangler.toml": 'name = "t"\nroute = "t.example.com/*"\n'},
            {"t": "https://t.example.com"},
            id="toml-route",
        ),
        pytest.param(
            {
                "w/wrangler.toml": 'name = "t"\n[route]\npattern = "t.example.com"\n'
                "custom_domain = true\n"
            },
            {"t": "https://t.example.com"},
            id="toml-custom-domain",
        ),
        pytest.param(
            {
                "w/wrangler.json": '{"name": "a", "routes": ["a.example.com/*"], '
                '"workers_dev": true}'
            },
            {"a": "https://a.example.com"},
            id="route-preferred-to-workers-dev",
        ),
        pytest.param(
            {"w/wrangler.json": '{"name": "a", "workers_dev": false}'},
            {},
            id="workers-dev-off-no-route",
        ),
        pytest.param(
            {"w/wrangler.json": '{"name": "a", "routes": ["*.a.com/*"], "workers_dev": true}'},
            {"a": "https://a.sub.workers.dev"},
            id="wildcard-falls-back-to-workers-dev",
        ),
        pytest.param(
            {"w/wrangler.toml": 'name = "from-toml"', "w/wrangler.jsonc": '{"name": "j"}'},
            {"j": "https://j.sub.workers.dev"},
            id="jsonc-takes-precedence",
        ),
    ],
)
def test_discover_from_configs(files: dict[str, str], expected: dict[str, str]) -> None:
    discovery = discover_from_configs(files, subdomain="sub")
    assert {s["name"]: s["url"] for s in discovery.config["services"]} == expected
    parse_config(render_yaml(discovery), env={})


def test_jsonc_binding_to_unknown_target_is_a_warning() -> None:
    discovery = discover_from_configs({"w/wrangler.jsonc": JSONC_TRICKS}, subdomain="sub")
    assert "depends_on" not in discovery.config["services"][0]
    assert any("target script 'other'" in w for w in discovery.warnings)


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        ({"a/wrangler.jsonc": '{"name": "a",, }'}, "a/wrangler.jsonc: cannot parse"),
        ({"a/wrangler.toml": 'name = "a'}, "a/wrangler.toml: cannot parse"),
        ({"a/wrangler.json": "[1, 2]"}, "expected an object"),
        ({"a/wrangler.json": '{"main": "x.ts"}'}, "worker name None is missing or invalid"),
        ({"a/wrangler.json": '{"name": "bad name"}'}, "'bad name' is missing or invalid"),
        (
            {"a/wrangler.json": '{"name": "a"}', "b/wrangler.json": '{"name": "a"}'},
            "b/wrangler.json: worker 'a' is also defined in a/wrangler.json",
        ),
        (
            {"a/wrangler.toml": 'name = "x"', "a/wrangler.json": '{"name": "a"}'},
            "a/wrangler.toml: ignored, wrangler.json takes precedence",
        ),
        ({"a/wrangler.json": '{"name": "a", "services": {"binding": "B"}}'}, "not a list"),
        ({"a/wrangler.json": '{"name": "a", "services": [{"binding": "B"}]}'}, "has no 'service'"),
        ({"a/wrangler.json": '{"name": "a", "routes": [{"zone_name": "z"}]}'}, "has no pattern"),
    ],
)
def test_problems_become_warnings(files: dict[str, str], fragment: str) -> None:
    scan = workers_from_configs(files)
    assert any(fragment in w for w in scan.warnings), scan.warnings


def test_self_binding_and_duplicates_are_not_dependencies() -> None:
    files = {
        "a/wrangler.json": '{"name": "a", "services": [{"binding": "SELF", "service": "a"},'
        '{"binding": "B1", "service": "b"}, {"binding": "B2", "service": "b"}]}',
        "b/wrangler.json": '{"name": "b"}',
    }
    services = _services(discover_from_configs(files, subdomain="sub"))
    assert services["a"]["depends_on"] == ["b"]


def test_binding_to_an_unmonitored_worker_is_dropped_with_a_warning() -> None:
    files = {
        "a/wrangler.json": '{"name": "a", "services": [{"binding": "B", "service": "b"}]}',
        "b/wrangler.json": '{"name": "b", "workers_dev": false}',
    }
    discovery = discover_from_configs(files, subdomain="sub")
    assert "depends_on" not in _services(discovery)["a"]
    assert any("'b', which is not monitored" in w for w in discovery.warnings)
    parse_config(render_yaml(discovery), env={})


def test_non_legacy_env_keeps_the_name() -> None:
    files = {
        "a/wrangler.json": '{"name": "a", "legacy_env": false, '
        '"env": {"prod": {"route": "a.example.com/*"}}}'
    }
    services = _services(discover_from_configs(files, env="prod"))
    assert services == {
        "a": {"name": "a", "url": "https://a.example.com", "labels": {"source": "wrangler"}}
    }


def test_queue_producer_and_consumer_bindings_become_queues() -> None:
    files = {
        "workers/email/wrangler.toml": (
            'name = "email"\nroutes = [{pattern = "email.example.com", custom_domain = true}]\n'
            '[[queues.producers]]\nqueue = "github-sync"\nbinding = "SYNC"\n'
            '[[queues.consumers]]\nqueue = "mail-out"\n'
            '[[queues.consumers]]\nqueue = "github-sync"\n'
        ),
        "workers/db/wrangler.jsonc": (
            '{"name": "db", "workers_dev": true, // no queues\n'
            ' "queues": {"producers": [{"binding": "Q"}]}}'
        ),
    }
    discovery = discover_from_configs(files, subdomain="acme")
    services = _services(discovery)
    assert services["email"]["queues"] == ["github-sync", "mail-out"]
    assert "queues" not in services["db"] and "worker" not in services["email"]
    assert any("queue producer" in w and "db" in w for w in discovery.warnings)
    parse_config(
        yaml.safe_dump({**discovery.config, "cloudflare": {"account_id": "a", "api_token": "t"}})
    )


def test_the_seed_mcp_worker_gets_an_mcp_check(fleet: Discovery) -> None:
    services = _services(fleet)
    assert services["do-mcp"]["mcp"] == [{"name": "tools", "path": "/mcp"}]
    assert [s for s, v in services.items() if "mcp" in v] == ["do-mcp"]
    [warning] = [w for w in fleet.warnings if w.startswith("do-mcp: mcp check")]
    assert "Durable Object binding MCP_OBJECT (class DoMCP)" in warning
    config = parse_config(render_yaml(fleet), "discovered.yaml", env={})
    [check] = [c for c in config.checks() if c.service == "do-mcp" and c.kind.value == "mcp"]
    assert check.url == "https://do-mcp.example.workers.dev/mcp"


def _worker(name: str, **config: Any) -> dict[str, str]:
    return {f"{name}/wrangler.json": json.dumps({"name": name, **config})}


@pytest.mark.parametrize(
    ("config", "mcp", "evidence"),
    [
        ({"routes": ["api.example.com/mcp*"]}, None, "has a path of its own"),
        (
            {"routes": ["api.example.com/*", "api.example.com/mcp/*"]},
            [{"name": "tools", "path": "/mcp"}],
            "route 'api.example.com/mcp/*'",
        ),
        ({"routes": ["api.example.com/*", "api.example.com/sse*"]}, None, None),
        ({"routes": ["api.example.com/*", "api.example.com/mcpx*"]}, None, None),
        (
            {"durable_objects": {"bindings": [{"name": "AGENT", "class_name": "SearchMcpAgent"}]}},
            [{"name": "tools", "path": "/mcp"}],
            "binding AGENT (class SearchMcpAgent)",
        ),
        (
            {"durable_objects": {"bindings": [{"name": "ROOMS", "class_name": "ChatRoom"}]}},
            None,
            None,
        ),
        ({"durable_objects": "garbage"}, None, None),
        ({"durable_objects": {"bindings": ["garbage", {"name": 3}]}}, None, None),
    ],
)
def test_mcp_endpoints_read_from_routes_and_durable_objects(
    config: dict[str, Any], mcp: list[dict[str, str]] | None, evidence: str | None
) -> None:
    discovery = discover_from_configs(_worker("svc", **config), subdomain="acme")
    [service] = discovery.config["services"]
    assert service.get("mcp") == mcp
    said = [w for w in discovery.warnings if "MCP" in w or "mcp check" in w]
    assert (evidence is None) == (not said), said
    if evidence is not None:
        assert evidence in said[0]


def test_durable_object_bindings_are_not_inherited_by_an_env() -> None:
    files = _worker(
        "svc",
        durable_objects={"bindings": [{"name": "MCP_OBJECT", "class_name": "MyMCP"}]},
        env={"production": {"routes": ["svc.example.com/*"]}},
    )
    top = discover_from_configs(files, subdomain="acme")
    production = discover_from_configs(files, subdomain="acme", env="production")
    assert top.config["services"][0]["mcp"] == [{"name": "tools", "path": "/mcp"}]
    assert "mcp" not in production.config["services"][0]
