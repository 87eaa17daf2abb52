"""The field types of `monitor.yaml` at their edges (fields.py, cloudflare.py, document.py,
loading.py): ratios at 0, 1 and one past, `${VAR}` with and without its default, URLs a
config may not put behind a link. Each refusal names file line, field and what was expected."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from monitor.config import (
    LatencyConfig,
    ServiceConfig,
    expand_env,
    link_url,
    load_config,
    parse_config,
    parse_ratio,
)
from monitor.errors import ConfigError
from tests.refusals import assert_refused, assert_refused_exactly

RATIO_EXPECTED = "expected a ratio such as 0.1% or 0.001 (0 to 1), got "


def parse(text: str, env: dict[str, str] | None = None) -> object:
    return parse_config(text, "m.yaml", env={} if env is None else env)


@pytest.mark.parametrize(
    ("value", "ratio"),
    [
        ("0", 0.0),
        (0, 0.0),
        ("0%", 0.0),
        ("0.1%", 0.001),
        (" 2.5% ", 0.025),
        ("100%", 1.0),
        (1, 1.0),
        (1.0, 1.0),
        ("0.001", 0.001),
    ],
)
def test_a_ratio_from_a_share_or_a_percentage(value: object, ratio: float) -> None:
    assert parse_ratio(value) == ratio


@pytest.mark.parametrize(
    "value",
    ["100.1%", "1.001", 2, "-0.1%", "-0.001", "%", "", "abc", "5 %%", True, False, None, [0.5]],
)
def test_a_ratio_outside_0_to_1_or_not_a_number_is_refused(value: object) -> None:
    with pytest.raises(ValueError) as info:
        parse_ratio(value)
    assert str(info.value) == RATIO_EXPECTED + repr(value)


def test_a_ratio_is_read_from_text_or_a_number_only() -> None:
    """A value built in code (not read from YAML) whose text is a number is still refused."""
    with pytest.raises(ValueError) as info:
        parse_ratio(Decimal("0.5"))
    assert str(info.value) == RATIO_EXPECTED + "Decimal('0.5')"


def test_a_refused_ratio_names_its_line_and_field() -> None:
    text = "services:\n  - name: a\n    url: http://a\n    load:\n      rate: 1/s\n"
    assert_refused_exactly(
        lambda: parse(text + "      max_error_ratio: 101%\n"),
        6,
        "services[0].load.max_error_ratio",
        RATIO_EXPECTED + "'101%'",
    )


@pytest.mark.parametrize(
    ("text", "env", "expanded"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("Bearer ${A}!", {"A": "x"}, "Bearer x!"),
        ("${A}${B}", {"A": "1", "B": "2"}, "12"),
        ("${A:-fallback}", {}, "fallback"),
        ("${A:-fallback}", {"A": "set"}, "set"),
        ("${A:-}", {}, ""),
        ("${A}", {"A": ""}, ""),
        ("$A and {A}", {"A": "x"}, "$A and {A}"),
        ("${_a9}", {"_a9": "ok"}, "ok"),
    ],
)
def test_environment_references_are_expanded(text: str, env: dict[str, str], expanded: str) -> None:
    assert expand_env(text, env) == expanded


def test_an_unset_variable_without_default_is_refused_by_name() -> None:
    with pytest.raises(ValueError) as info:
        expand_env("x ${SET} ${UNSET_ONE}", {"SET": "1"})
    assert str(info.value) == "environment variable UNSET_ONE is not set"


def headers(value: str) -> str:
    return f"services:\n  - name: a\n    url: http://a\n    headers:\n      X-Key: {value}\n"


@pytest.mark.parametrize(("value", "kept"), [("123", "123"), ("1.5", "1.5"), ("'a b'", "a b")])
def test_a_header_value_may_be_a_number_or_text(value: str, kept: str) -> None:
    config = parse_config(headers(value), env={})
    [check] = config.checks()
    assert check.headers["X-Key"].get_secret_value() == kept


@pytest.mark.parametrize("value", ["true", "[a]", "{a: b}", "null"])
def test_a_header_value_that_is_not_text_is_refused(value: str) -> None:
    assert_refused(lambda: parse(headers(value)), 5, "services[0].headers.X-Key", "")


def test_a_boolean_header_value_is_refused_as_not_a_string() -> None:
    assert_refused_exactly(
        lambda: parse(headers("true")), 5, "services[0].headers.X-Key", "expected a string value"
    )


@pytest.mark.parametrize("value", ['"a\\rb"', '"a\\nb"', '"${V}"'])
def test_a_line_break_is_refused_also_when_it_comes_from_the_environment(value: str) -> None:
    assert_refused_exactly(
        lambda: parse(headers(value), {"V": "x\r\ny"}),
        5,
        "services[0].headers.X-Key",
        "value contains a line break",
    )


def test_without_an_env_the_process_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_TEST_HEADER", "from-env")
    config = parse_config(headers("${MONITOR_TEST_HEADER}"))
    assert config.checks()[0].headers["X-Key"].get_secret_value() == "from-env"
    service = ServiceConfig.model_validate(
        {"name": "a", "url": "http://a", "headers": {"X": "${MONITOR_TEST_HEADER}"}}
    )
    assert service.headers["X"].get_secret_value() == "from-env"


@pytest.mark.parametrize(
    "url", ["http://a", "HTTPS://Docs.Example/run?x=1#y", "https://a:8443/", "http://a#top"]
)
def test_a_link_is_any_http_url(url: str) -> None:
    assert link_url(url) == url


@pytest.mark.parametrize(
    "url", ["https://user@a/", "https://", "https:///path", "http://a b", "mailto:x@a"]
)
def test_a_link_with_userinfo_or_without_host_is_refused(url: str) -> None:
    with pytest.raises(ValueError) as info:
        link_url(url)
    assert str(info.value) == f"expected an http:// or https:// URL, got {url!r}"


def test_a_refused_link_shows_only_its_first_80_characters() -> None:
    url = "javascript:" + "x" * 100
    with pytest.raises(ValueError) as info:
        link_url(url)
    assert str(info.value) == f"expected an http:// or https:// URL, got {url[:80]!r}"


@pytest.mark.parametrize("path", ["health", "", " /health"])
def test_a_request_path_must_start_with_a_slash(path: str) -> None:
    text = f"defaults:\n  health_path: '{path}'\n"
    assert_refused_exactly(
        lambda: parse(text),
        2,
        "defaults.health_path",
        f"expected a path starting with '/', got {path!r}",
    )


# -- cloudflare: ------------------------------------------------------------------------------

CLOUDFLARE = "cloudflare:\n  account_id: ${CF_ACCOUNT}\n  api_token: ${CF_TOKEN}\n"
CF_ENV = {"CF_ACCOUNT": "acc-1", "CF_TOKEN": "tok"}


def test_cloudflare_ids_come_from_the_environment() -> None:
    config = parse_config(CLOUDFLARE, env=CF_ENV)
    assert config.cloudflare is not None
    assert config.cloudflare.account_id == "acc-1"
    assert config.cloudflare.api_token.get_secret_value() == "tok"
    assert config.cloudflare.api_url == "https://api.cloudflare.com/client/v4/graphql"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8787/graphql", "https://proxy.example"])
def test_another_api_url_is_any_http_base_url(url: str) -> None:
    config = parse_config(CLOUDFLARE + f"  api_url: {url}\n", env=CF_ENV)
    assert config.cloudflare is not None and config.cloudflare.api_url == url


def test_a_refused_api_url_never_shows_its_password() -> None:
    error = assert_refused_exactly(
        lambda: parse(CLOUDFLARE + "  api_url: https://u:hunter2@proxy.example/q?x=1\n", CF_ENV),
        4,
        "cloudflare.api_url",
        "expected an http:// or https:// URL, got 'https://[redacted]@proxy.example/q?x=1'",
    )
    assert "hunter2" not in str(error)


# -- latency: ---------------------------------------------------------------------------------


def test_latency_windows_are_kept_sorted() -> None:
    config = parse_config("latency:\n  windows: [1h, 1m, 5m]\n", env={})
    assert config.latency.windows == [60.0, 300.0, 3600.0]


@pytest.mark.parametrize("windows", ["[1m, 1m]", "[0s, 1m]", "[1m, 5m, 60s]"])
def test_latency_windows_must_be_distinct_and_positive(windows: str) -> None:
    assert_refused_exactly(
        lambda: parse(f"latency:\n  windows: {windows}\n"),
        2,
        "latency.windows",
        "expected distinct positive durations",
    )


def test_one_latency_window_is_enough() -> None:
    assert LatencyConfig(windows=[300.0]).windows == [300.0]


def test_service_lookup_by_name_follows_a_copy_with_other_services() -> None:
    config = parse_config(
        "services:\n  - {name: a, url: 'http://a'}\n  - {name: b, url: 'http://b'}\n", env={}
    )
    assert (config.position("a"), config.position("b"), config.position("c")) == (0, 1, None)
    b = config.service("b")
    assert b is not None and b.url == "http://b"
    assert config.service("c") is None
    swapped = config.model_copy(update={"services": [config.services[1], config.services[0]]})
    assert (swapped.position("a"), swapped.position("b")) == (1, 0)
    assert config.position("a") == 0


# -- loading ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "# only a comment\n", "null\n"])
def test_an_empty_file_is_the_default_config(text: str) -> None:
    config = parse_config(text, env={})
    assert (config.services, config.listen, config.metrics) == ([], "127.0.0.1:8700", "lean")


@pytest.mark.parametrize("text", ["- a\n", "just text\n", "42\n"])
def test_a_file_that_is_not_a_mapping_is_refused_at_line_1(text: str) -> None:
    assert_refused_exactly(
        lambda: parse(text), 1, "", "expected a mapping with a services: list at the top"
    )


def test_a_file_in_another_encoding_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("services: []  # caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    [problem] = info.value.problems
    assert (problem.location, problem.line) == ("", None)
    assert problem.message.startswith("cannot read the file: ")
    assert "utf-8" in problem.message and str(path) in str(info.value)


def test_a_file_is_read_with_its_environment(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(headers("${K}"), encoding="utf-8")
    config = load_config(path, env={"K": "käse"})
    assert config.checks()[0].headers["X-Key"].get_secret_value() == "käse"
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).startswith(f"{path}:5: services[0].headers.X-Key: ")


def test_a_config_without_a_file_name_is_called_config_in_its_errors() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("- a\n", env={})
    assert str(info.value) == ("<config>:1: expected a mapping with a services: list at the top")
