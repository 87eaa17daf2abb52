"""Secrets never come out of what the monitor writes: patterns for credentials it does not know,
removal by value for the ones its config resolved, whatever the encoding or truncation."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import string
from collections.abc import Callable
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, SecretStr

from monitor.answer import ERROR_DETAIL_CHARS, Answer, TransportError
from monitor.config import parse_config
from monitor.model import Verdict
from monitor.normalize import normalize_response
from monitor.normalize.evidence import evidence_snippet
from monitor.receivers.alertmanager import AlertmanagerConfig
from monitor.receivers.apprise import AppriseConfig
from monitor.receivers.log import LogConfig
from monitor.receivers.pagerduty import PagerDutyConfig
from monitor.receivers.slack import SlackConfig
from monitor.receivers.webhook import WebhookConfig
from monitor.secrets_scrub import (
    MIN_SECRET_CHARS,
    NO_SECRETS,
    REDACTED,
    Scrubber,
    _forms,
    scrubber_for,
    secrets_in,
    url_secrets,
)
from monitor.status import check_status


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        (b"Authorization: Bearer topsecret", "Authorization: Bearer [redacted]"),
        (b"authorization: basic dXNlcjp0b3BzZWNyZXQ=", "authorization: basic [redacted]"),
        (b'{"Authorization": "Bearer topsecret"}', '{"Authorization": "[redacted]"}'),
        (b'{"password": "top secret words"}', '{"password": "[redacted]"}'),
        (b"GET /x?access_token=topsecret&page=2", "GET /x?access_token=[redacted]&page=2"),
        (b"X-Api-Key: topsecret", "X-Api-Key: [redacted]"),
        (b"echo: Bearer topsecret", "echo: Bearer [redacted]"),
    ],
)
def test_redaction_removes_the_credential_not_only_its_scheme_word(body: bytes, kept: str) -> None:
    snippet = evidence_snippet(body)
    assert "topsecret" not in snippet and "top secret" not in snippet
    assert snippet == kept


ENCODINGS: dict[str, Callable[[str], str]] = {
    "raw": lambda s: s,
    "url": lambda s: quote(s, safe=""),
    "url-lower": lambda s: quote(s, safe="").replace("%2F", "%2f").replace("%3A", "%3a"),
    "form": quote_plus,
    "json": lambda s: json.dumps(s)[1:-1],
    "base64": lambda s: base64.b64encode(s.encode()).decode(),
}
SECRET_CHARS = string.ascii_letters + string.digits + string.punctuation + " "
# a part of the marker itself cannot be hidden (documented in monitor/secrets_scrub.py)
secrets = st.text(alphabet=SECRET_CHARS, min_size=8, max_size=40).filter(
    lambda s: s not in REDACTED
)
surrounding = st.text(max_size=150)


def texts(verdict: Verdict) -> list[str]:
    parts = [verdict.detail, verdict.evidence, verdict.version or ""]
    return parts + [c.detail for c in verdict.components.values()]


@settings(max_examples=300, deadline=None)
@given(
    secret=secrets,
    encoding=st.sampled_from(sorted(ENCODINGS)),
    before=surrounding,
    after=surrounding,
    status=st.sampled_from([200, 401, 500, 503]),
    cut=st.floats(min_value=0.0, max_value=1.0),
    as_json=st.booleans(),
)
def test_a_registered_secret_never_comes_out_whatever_surrounds_encodes_or_cuts_it(
    secret: str,
    encoding: str,
    before: str,
    after: str,
    status: int,
    cut: float,
    as_json: bool,
) -> None:
    """The promise: neither the secret's form nor, where the body was cut, the part of it that
    was kept (a prefix, at least `MIN_SECRET_CHARS` long) appears in any text of the verdict."""
    form = ENCODINGS[encoding](secret)
    if as_json:  # the form inside a JSON string: escaped once more
        head = '{"status": "down", "detail": "' + escape(before)
        placed = escape(form)
        text = head + placed + escape(after) + '", "version": "' + placed + '"}'
    else:
        head, placed = before, form
        text = before + form + after
    body = text.encode()
    end = round(len(body) * cut)
    answer = Answer(
        url="http://svc/health",
        status_code=status,
        headers={"content-type": "application/json" if as_json else "text/plain"},
        body=body[:end],
        truncated=end < len(body),
    )
    verdict = normalize_response(answer, Scrubber([secret]))
    kept = body[:end].decode("utf-8", errors="ignore")
    # the secret halved by the cut: the part kept (unless the surrounding text has it anyway)
    partial = kept[len(head) :] if len(head) < len(kept) < len(head) + len(placed) else ""
    halved = len(partial) >= MIN_SECRET_CHARS and partial not in head
    if halved:  # unless the verdict says it anyway ("moni" in "the monitor is not allowed")
        without = dataclasses.replace(answer, body=head.encode())
        halved = not any(partial in text for text in texts(normalize_response(without)))
    for out in texts(verdict):
        assert form not in out and secret not in out
        assert not (halved and partial in out), partial


def escape(text: str) -> str:
    return json.dumps(text)[1:-1]


@settings(max_examples=200, deadline=None)
@given(secret=secrets, before=st.text(max_size=400), after=surrounding)
def test_a_secret_in_an_error_message_cut_at_its_limit_leaks_no_prefix(
    secret: str, before: str, after: str
) -> None:
    detail = " ".join((before + secret + after).split())[:ERROR_DETAIL_CHARS]
    answer = Answer(url="http://svc/h", error=TransportError.PROTOCOL_ERROR, error_detail=detail)
    out = normalize_response(answer, Scrubber([secret])).detail
    folded = " ".join(secret.split())
    assert folded not in out
    tail = detail[detail.find(folded[:MIN_SECRET_CHARS]) :] if folded[:4] in detail else ""
    assert not (len(tail) >= MIN_SECRET_CHARS and folded.startswith(tail) and out.endswith(tail))


def test_control_characters_that_split_a_secret_in_the_body_do_not_join_it_in_the_evidence() -> (
    None
):
    answer = Answer(url="http://svc/h", status_code=500, body=b"echo: hunter\x00\x0142-secret")
    verdict = normalize_response(answer, Scrubber(["hunter42-secret"]))
    assert "hunter42" not in verdict.evidence and REDACTED in verdict.evidence


def test_a_basic_header_hides_its_decoded_user_and_password() -> None:
    token = base64.b64encode(b"deploy:pa55w0rd-xyz").decode()
    scrubber = Scrubber([f"Basic {token}"])
    text = f"got {token}; user deploy:pa55w0rd-xyz; password pa55w0rd-xyz"
    out = scrubber.scrub(text)
    assert token not in out and "pa55w0rd-xyz" not in out


def test_short_values_are_not_scrubbed_they_would_destroy_text() -> None:
    assert Scrubber(["abc"]).scrub("abc abcdef") == "abc abcdef"
    assert Scrubber(["abcd"]).scrub("abc abcdef") == f"abc {REDACTED}ef"


def test_a_longer_secret_is_removed_whole_before_a_shorter_one_it_contains() -> None:
    out = Scrubber(["token-1234", "token-1234-extra"]).scrub("x token-1234-extra y")
    assert out == f"x {REDACTED} y"


def test_url_userinfo_goes_even_when_not_registered() -> None:
    out = Scrubber().scrub("Cannot connect to https://ops:hunter2@db.internal:5432/x")
    assert "hunter2" not in out and "db.internal" in out


def test_the_scrubber_knows_every_secret_the_config_resolved() -> None:
    config = parse_config(
        """
auth: {admin_token: admin-token-xyz, read_token: "${READ}"}
defaults: {headers: {X-Default: default-secret-1}}
services:
  - name: a
    url: https://svc:userinfo-pass@a.example
    headers: {Authorization: "Bearer header-secret-2"}
""",
        env={"READ": "read-token-from-env"},
    )
    webhook = WebhookConfig.model_validate(
        {
            "type": "webhook",
            "name": "hook",
            "url": "https://relay.example/hooks/0123456789abcdef?key=relay-key-3",
            "hmac_secret": "hmac-secret-4",
        }
    )
    scrubber = scrubber_for(config, webhook)
    for secret in (
        "admin-token-xyz",
        "read-token-from-env",
        "default-secret-1",
        "header-secret-2",
        "userinfo-pass",
        "relay-key-3",
        "hmac-secret-4",
        "/hooks/0123456789abcdef",
    ):
        assert secret not in scrubber.scrub(f"<{secret}>"), secret
    pushed = scrubber.with_secrets(["push-token-5"])  # a later source registers without reset
    assert "push-token-5" not in pushed.scrub("push-token-5")


def test_status_shows_a_service_url_without_its_userinfo() -> None:
    config = parse_config("services:\n  - name: a\n    url: https://ops:pw-in-url-9@a.example\n")
    check = config.checks()[0]
    shown = check_status(check, None).url
    assert "pw-in-url-9" not in shown and shown.endswith("@a.example/health")
    token_only = Scrubber().scrub("GET https://ghp_tokenAsUser@git.example/x failed")
    assert "ghp_tokenAsUser" not in token_only


def test_evidence_stays_within_its_limit_when_redaction_lengthens_it() -> None:
    answer = Answer(url="http://svc/h", status_code=500, body=b"a://b@c " * 30)
    evidence = normalize_response(answer).evidence
    assert len(evidence) <= 200 and "a://[redacted]@c" in evidence


def regex_scrub(secrets: list[str], text: str) -> str:
    """The reference: one alternation regex of every form, longest first, each `%XX` escape in
    either case (what the scrubber did before its automaton), applied until nothing changes."""
    forms = {f for s in secrets if len(s) >= MIN_SECRET_CHARS for f in _forms(s)}
    forms = {f for f in forms if len(f) >= MIN_SECRET_CHARS and f not in REDACTED}
    if not forms:
        return text

    def any_case(form: str) -> str:
        return re.sub(
            r"%([0-9A-Fa-f]{1,2})",
            lambda m: "%" + "".join(f"[{c.upper()}{c.lower()}]" for c in m.group(1)),
            re.escape(form),
        )

    pattern = re.compile("|".join(any_case(f) for f in sorted(forms, key=lambda f: (-len(f), f))))
    for _ in range(4):
        text, replaced = pattern.subn(REDACTED, text)
        if not replaced:
            break
    return text


# a small alphabet, so that secrets overlap, contain each other and meet escapes
overlapping = st.text(alphabet="abcAB%2f/=-", min_size=4, max_size=9)


@settings(max_examples=400, deadline=None)
@given(secrets=st.lists(overlapping, min_size=1, max_size=6), data=st.data())
def test_the_automaton_finds_what_one_longest_first_regex_finds(
    secrets: list[str], data: st.DataObject
) -> None:
    """Leftmost match first, at one position the longest form, overlapping secrets, escapes in
    either case: the same text as the regex the automaton replaced."""
    secrets = secrets + [s[1:] for s in secrets] + [s[:-1] for s in secrets]  # nested ones
    encoders = [lambda s: s, lambda s: quote(s, safe=""), lambda s: quote(s, safe="").lower()]
    piece = st.one_of(
        st.text(alphabet="abcAB%2f/=- ", max_size=6),
        st.builds(lambda s, e: e(s), st.sampled_from(secrets), st.sampled_from(encoders)),
    )
    text = "".join(data.draw(st.lists(piece, max_size=8)))
    assert Scrubber(secrets).scrub(text) == regex_scrub(secrets, text)


def test_a_hex_secret_is_not_found_in_other_case_outside_an_escape() -> None:
    scrubber = Scrubber(["DEADBEEF-0042"])
    assert scrubber.scrub("id deadbeef-0042") == "id deadbeef-0042"
    assert scrubber.scrub("id DEADBEEF-0042") == f"id {REDACTED}"
    escaped = Scrubber(["a/b/c/d/e"])
    assert escaped.scrub("x=a%2fb%2Fc%2fd%2Fe") == f"x={REDACTED}"


def test_many_secrets_are_found_wherever_they_are() -> None:
    tokens = [f"push-{i:06d}-{'k' * 19}" for i in range(20_000)]
    scrubber = Scrubber(tokens)
    text = f"GET /push/{tokens[0]} and /push/{tokens[12_345]}/fail, {tokens[-1]}"
    assert scrubber.scrub(text) == f"GET /push/{REDACTED} and /push/{REDACTED}/fail, {REDACTED}"
    body = f"echo {tokens[777]}".encode()
    assert scrubber.scrub_bytes(body) == f"echo {REDACTED}".encode()
    assert scrubber.scrub_bytes(b"nothing here") == b"nothing here"
    not_utf8 = b"\xff\xfe " + tokens[9].encode() + b" \xed\xa0\x80"  # bytes survive, token not
    assert scrubber.scrub_bytes(not_utf8) == b"\xff\xfe " + REDACTED.encode() + b" \xed\xa0\x80"


def test_a_union_builds_nothing_when_one_side_holds_every_secret() -> None:
    config = Scrubber(["token-1234", "token-5678"])
    assert NO_SECRETS.union(config) is config  # the daemon's start
    assert config.union(Scrubber(["token-5678"])) is config  # a reload that added no secret
    both = config.union(Scrubber(["rotated-9999"]))  # a rotated token: the old one stays hidden
    assert both.scrub("token-1234 rotated-9999") == f"{REDACTED} {REDACTED}"


def every_secret(value: object) -> list[str]:
    """`secrets_in` as it was: every field of every model walked (the reference)."""
    if isinstance(value, SecretStr):
        return list(secrets_in(value))
    if isinstance(value, BaseModel):
        return [s for name in type(value).model_fields for s in every_secret(getattr(value, name))]
    if isinstance(value, dict):
        return [s for v in value.values() for s in every_secret(v)]
    if isinstance(value, list | tuple | set | frozenset):
        return [s for v in value for s in every_secret(v)]
    return []


RICH_CONFIG = """
auth: {admin_token: admin-token-xyz, read_token: read-token-abc}
defaults: {headers: {X-Default: default-secret-1}, tls: {server_name: a.example}}
cloudflare: {account_id: acct, api_token: cf-token-123}
services:
  - name: a
    url: https://svc:userinfo-pass@a.example
    headers: {Authorization: "Bearer header-secret-2"}
    tls: {warn_before: 7d}
    expect: {cel: 'status == 200'}
    rpc: [{name: db, path: /smoke/db, headers: {X-Rpc: rpc-secret-3}}]
    http:
      - {name: post, path: /x, method: POST, json: {k: v}, headers: {X-Http: http-secret-4}}
    tcp: [{name: pg, address: 'db.internal:5432'}]
    mcp: [{name: tools, path: /mcp}]
    push: [{name: job, every: 1h, grace: 5m, token: push-token-0123456789}]
    load: {rate: 10/s}
    queues: [q1]
"""


def test_the_walk_skips_only_fields_that_cannot_hold_a_secret() -> None:
    config = parse_config(RICH_CONFIG, env={})
    receivers = [
        AlertmanagerConfig(type="alertmanager", name="am", url="http://am.example/?k=am-key-1"),
        AppriseConfig(type="apprise", name="ap", urls=["json://127.0.0.1:9/hook/json-token-1234"]),
        LogConfig(type="log", name="log"),
        PagerDutyConfig(type="pagerduty", name="pd", routing_key="routing-key-12345"),
        SlackConfig(type="slack", name="sl", url="https://hooks.example/services/T0/B0/xyz123"),
        WebhookConfig(
            type="webhook", name="wh", url="https://relay.example/h", hmac_secret="hmac-secret-4"
        ),
    ]
    for source in (config, *receivers):
        assert list(secrets_in(source)) == every_secret(source)
    assert len(every_secret(config)) == 8  # every SecretStr of RICH_CONFIG


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://a",
        "http://127.0.0.1:8700/s000001",
        "http://127.0.0.1:8700/0123456789abcd",  # a path of 15 characters
        "http://127.0.0.1:8700/0123456789abcde",  # 16: long enough to be a secret
        "https://user:pass@host.example/",
        "https://token@host.example/x",
        "https://host.example/x?key=value-1234",
        "https://host.example/x#frag?notquery",
        "https://host.example\\@evil.example/p",
        "host.example/a/path/that/is/long/enough",
        "1http://host.example/0123456789abcdef0",
        "http://[::1]:8700/p",
        "http://[::1/p",  # urlsplit refuses it
    ],
)
def test_url_secrets_shortcut_agrees_with_splitting_the_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        found = [parts.password or parts.username or ""]
    except ValueError:
        assert url_secrets(url) == []
        return
    found.extend(value for _, value in parse_qsl(parts.query))
    found = [value for value in found if value]
    if len(parts.path) >= 16:
        found.append(parts.path)
    assert url_secrets(url) == found


def test_a_service_without_a_url_gives_no_url_secrets() -> None:
    config = parse_config(
        "services:\n  - name: job\n    push: [{name: n, every: 1h, grace: 5m, "
        "token: push-token-0123456789}]\n",
        env={},
    )
    assert config.services[0].url is None
    assert "push-token-0123456789" not in scrubber_for(config).scrub("push-token-0123456789")
