"""Secrets through the normalizer (normalize/_scrubbed.py), one path at a time: a body, a header
and an error message scrubbed before parsing (so that no cut halves a secret), and the
verdict's texts scrubbed again after (evidence joins what control characters kept apart).
Each case is exact: the words shown, not only "the secret is absent". The promise itself is
property-tested in test_secrets_scrub.py; these are the paths, cheap enough for mutation runs.
"""

from __future__ import annotations

from monitor.answer import Answer, TransportError
from monitor.normalize import normalize_response
from monitor.secrets_scrub import Scrubber

SECRET = "hunter42-secret"
SCRUB = Scrubber([SECRET])
SHORT = Scrubber(["hunter42"])  # shorter than `[redacted]`: redaction lengthens the text
URL = "http://svc.test/health"
TEXT = {"content-type": "text/plain"}
JSON = {"content-type": "application/json"}


def test_a_secret_in_the_body_is_gone_before_the_gist_is_cut() -> None:
    """Cut first, the gist would end in `hunt…`; scrubbed first, it ends in `[re…`."""
    body = b"x" * 95 + b" hunter42-secret"
    verdict = normalize_response(Answer(URL, 500, TEXT, body), SCRUB)
    assert verdict.detail == "HTTP 500 (" + "x" * 95 + " [re…)"
    assert verdict.evidence == "x" * 95 + " [redacted]"


def test_a_body_truncated_inside_a_secret_loses_the_secret_s_beginning() -> None:
    answer = Answer(URL, 200, {}, b"echo hunter42-sec", truncated=True)
    assert normalize_response(answer, SCRUB).evidence == "echo"


def test_a_header_is_scrubbed_before_a_redirect_detail_cuts_it() -> None:
    location = "https://login.test/" + "a" * 95 + SECRET
    verdict = normalize_response(Answer(URL, 302, {"location": location}), SCRUB)
    assert verdict.detail == (
        "HTTP 302 redirect to https://login.test/" + "a" * 95 + "[reda… was not followed: "
        "it leads to another host (cross_host_redirects is off)"
    )


def test_an_error_message_cut_at_300_characters_loses_a_secret_s_beginning() -> None:
    long_secret = "hunter42-" + "s" * 51
    detail = "x" * 270 + long_secret[:30]
    assert len(detail) == 300  # the probe's cut: the secret went on
    answer = Answer(URL, error=TransportError.PROTOCOL_ERROR, error_detail=detail)
    verdict = normalize_response(answer, Scrubber([long_secret]))
    assert verdict.detail == "malformed HTTP answer: " + "x" * 270


def test_an_error_message_is_scrubbed_before_the_detail_cuts_it() -> None:
    """299 characters: not cut by the probe, but the detail (summary + message) is cut at 300."""
    message = "x" * 270 + SECRET + "y" * 14
    answer = Answer(URL, error=TransportError.PROTOCOL_ERROR, error_detail=message)
    verdict = normalize_response(answer, SCRUB)
    assert verdict.detail == "malformed HTTP answer: " + "x" * 270 + "[redact"


def test_a_cut_excerpt_ends_where_it_was_cut() -> None:
    verdict = normalize_response(Answer(URL, 500, TEXT, b"x" * 300), SCRUB)
    assert verdict.evidence == "x" * 199 + "…"
    # ... unless its end could begin a secret: `a` begins the base64 form `aHVudGVy...`
    verdict = normalize_response(Answer(URL, 500, TEXT, b"a" * 300), SCRUB)
    assert verdict.evidence == "a" * 198 + "…"


def test_a_secret_the_excerpt_joins_and_cuts_loses_its_beginning() -> None:
    """The body keeps the secret apart with a control character; the excerpt drops it, joins
    the secret and then cuts it at 200: what is left of it goes."""
    body = b"a" * 190 + b" hunter\x0042-secret" + b"b" * 50
    assert normalize_response(Answer(URL, 500, TEXT, body), SCRUB).evidence == "a" * 190 + " …"


def test_a_secret_the_excerpt_joins_is_redacted() -> None:
    body = b"echo: hunter\x00\x0142-secret"
    assert normalize_response(Answer(URL, 500, TEXT, body), SCRUB).evidence == "echo: [redacted]"


def test_an_excerpt_that_redaction_lengthens_to_200_is_kept() -> None:
    body = b"a" * 190 + b"hunter\x0042"
    assert normalize_response(Answer(URL, 500, TEXT, body), SHORT).evidence == (
        "a" * 190 + "[redacted]"
    )


def test_an_excerpt_that_redaction_lengthens_past_200_is_cut_again() -> None:
    body = b"a" * 191 + b"hunter\x0042"
    assert normalize_response(Answer(URL, 500, TEXT, body), SHORT).evidence == (
        "a" * 191 + "[redacte…"
    )


def test_the_second_cut_also_drops_what_could_begin_a_secret() -> None:
    body = b"hunter\x0042" + b"y" * 187 + b"huntz"
    assert normalize_response(Answer(URL, 500, TEXT, body), SHORT).evidence == (
        "[redacted]" + "y" * 187 + "…"
    )


def test_a_secret_the_body_escaped_is_redacted_in_what_was_parsed_from_it() -> None:
    """`\\u002d` is `-`: the body does not hold the secret byte for byte, the parsed JSON does."""
    body = (
        b'{"status": "down", "version": "hunter42\\u002dsecret",'
        b' "db": {"status": "down", "detail": "auth hunter42\\u002dsecret"}}'
    )
    verdict = normalize_response(Answer(URL, 200, JSON, body), SCRUB)
    assert verdict.version == "[redacted]"
    assert verdict.components["db"].detail == "auth [redacted]"
    assert verdict.detail == "reports unhealthy with HTTP 200: db unhealthy: auth [redacted]"


def test_every_text_of_the_verdict_is_scrubbed_at_once() -> None:
    """Detail, evidence and version each hold the secret in another shape."""
    body = (
        '{"status": "down", "message": "bad key hunter42\\u002dsecret",'
        ' "version": "hunter42\\u002dsecret", "note": "hunter\u200b42-secret"}'
    ).encode()
    verdict = normalize_response(Answer(URL, 200, JSON, body), SCRUB)
    assert verdict.detail == "reports unhealthy with HTTP 200: bad key [redacted]"
    assert verdict.version == "[redacted]"
    assert verdict.evidence.endswith('"note": "[redacted]"}')
