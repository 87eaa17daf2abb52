"""Removing the secrets the config resolved from any text the monitor writes.

A service that echoes request headers (many error pages do), a receiver that quotes its own URL
in an error, an exception message carrying a URL: each would republish a secret in /status, the
SQLite files or the log. Patterns cannot know every shape, so the secrets are removed **by
value**: a `Scrubber` is built once from the loaded config (every resolved `SecretStr`, plus the
password in any URL's userinfo) and applied where text is written: the normalizer's output, the
store, the alert outbox and a structlog processor. It is a value passed down, not a global; the
log processor gets its one explicitly, once, at start (`monitor.logs.set_log_scrubber`).

What is promised: for every registered secret of at least `MIN_SECRET_CHARS` characters, the
secret, its URL-encoded, JSON-escaped, base64 and white-space-folded forms (and, for a
`Basic`/`Bearer` value, the credential alone and the decoded `user:pass`) never appear in
scrubbed text. Where text was cut (`cut=True`), a trailing *prefix* of one of those forms is
removed too, so a secret halved by a truncation leaks no part. Shorter secrets are ignored:
replacing every `abc` would destroy text and hide nothing worth hiding; so is a value that is
part of the marker `[redacted]` itself.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
from collections.abc import Iterable, Iterator
from enum import Enum
from functools import cache
from itertools import chain
from operator import attrgetter
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import ahocorasick_rs
from pydantic import BaseModel, SecretStr

MIN_SECRET_CHARS = 4
REDACTED = "[redacted]"
_MAX_PASSES = 4
"""A replacement can only recreate a secret around the marker in contrived cases; bounded."""
_LONG_PATH_CHARS = 16
_TOKEN_PART_CHARS = 8
"""A URL path this long is taken to carry a secret (Slack, webhook relays put the key there)."""
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@]+@")
_SCHEME_CREDENTIAL = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)\s+(\S+)$")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{1,2}")
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+")
"""Characters that URL-quoting and JSON leave as they are (most tokens are made of them)."""


def _upper_escapes(text: str) -> str:
    """`%3a` -> `%3A`, same length: encoders differ in the case of their hex digits."""
    return _ESCAPE.sub(lambda m: m.group(0).upper(), text) if "%" in text else text


def without_userinfo(text: str) -> str:
    """`https://user:pass@host/` -> `https://[redacted]@host/`, wherever a URL is in `text`:
    for URLs shown as they are configured (/status) and for any text scrubbed."""
    if "@" not in text:
        return text
    return _USERINFO.sub(lambda m: m.group(1) + REDACTED + "@", text)


def _basic_decoded(credential: str) -> list[str]:
    try:
        decoded = base64.b64decode(credential, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return []
    _, _, password = decoded.partition(":")
    return [decoded, password]


def _forms(secret: str) -> Iterator[str]:
    """The secret and the encodings in which a service or a library may repeat it."""
    parts = [secret]
    scheme = _SCHEME_CREDENTIAL.match(secret)
    if scheme is not None:  # "Bearer abc": the credential travels alone too
        parts.append(scheme.group(2))
        if scheme.group(1).lower() == "basic":
            parts.extend(_basic_decoded(scheme.group(2)))
    # evidence and error details fold white space: the folded form must go as well
    parts.extend([" ".join(part.split()) for part in parts])
    for part in parts:
        if len(part) < MIN_SECRET_CHARS:
            continue
        yield part
        if _UNRESERVED.fullmatch(part) is None:  # else URL and JSON encodings change nothing
            yield from _escaped_forms(part)
        encoded = base64.b64encode(part.encode()).decode()
        yield from (encoded, encoded.rstrip("="))


def _escaped_forms(part: str) -> Iterator[str]:
    """`part` URL-encoded and JSON-escaped, as a query string or an API answer repeats it."""
    yield from (quote(part, safe=""), quote_plus(part))
    for escaped in (json.dumps(part)[1:-1], json.dumps(part, ensure_ascii=False)[1:-1]):
        yield escaped
        yield json.dumps(escaped)[1:-1]  # JSON inside JSON (a log line in an API answer)


def url_secrets(url: str) -> list[str]:
    """The parts of a URL that carry secrets: userinfo password, query values, a long path."""
    if (
        not url
        or len(url) < _LONG_PATH_CHARS
        or ("@" not in url and "?" not in url and _short_path(url))
    ):
        return []  # no URL (a push-only service), or no user, no query, a short path
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return []
    found = [password or parts.username or ""]  # a token may travel as the user name
    found.extend(value for _, value in parse_qsl(parts.query))
    found = [value for value in found if value]
    if len(parts.path) >= _LONG_PATH_CHARS:
        found.append(parts.path)
    return found


def _short_path(url: str) -> bool:
    """`scheme://host[:port]/path` whose path is shorter than a secret-carrying one."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.isalpha() or "\\" in rest:
        return False  # not that plain shape: let urlsplit decide
    slash = rest.find("/")
    return slash < 0 or len(rest) - slash < _LONG_PATH_CHARS


def notification_url_secrets(url: str) -> list[str]:
    """The parts of a notification URL that may be tokens (`tgram://token/chat`,
    `discord://id/token`, `mailto://user:pass@host`): apprise's schemes put them in the host
    and path too. A host name with a dot (DNS, IPv4) is an address, not a token; other parts
    count from `_TOKEN_PART_CHARS` on, so a path word such as `page` is not redacted in every
    log line."""
    try:
        parts = urlsplit(url)
        found = [parts.username or "", parts.password or ""]
        host = parts.hostname or ""
    except ValueError:
        return []
    tokens = [host] if "." not in host else []
    tokens.extend(parts.path.split("/"))
    tokens.extend(value for _, value in parse_qsl(parts.query))
    found.extend(t for t in tokens if len(t) >= _TOKEN_PART_CHARS)
    return [value for value in found if value]


_PLAIN = (str, int, float, bool, bytes, type(None))


def _may_hold_secret(annotation: Any) -> bool:
    """Whether a field so typed can hold a `SecretStr`; unsure (Any, a string annotation)
    counts as yes."""
    if isinstance(annotation, type) and not get_args(annotation):
        if issubclass(annotation, SecretStr):
            return True
        if issubclass(annotation, BaseModel):  # a model of durations only holds none
            return annotation in _EXAMINING or bool(_fields_with_secrets(annotation))
        return not issubclass(annotation, (*_PLAIN, Enum))
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return False
    if origin is Annotated:
        return _may_hold_secret(args[0])
    if origin is not None and args:  # list[...], dict[...], X | None
        return any(_may_hold_secret(a) for a in args if a is not Ellipsis)
    return True


_EXAMINING: set[type[BaseModel]] = set()
"""Models whose fields are being looked at: one that contains itself counts as holding."""


@cache
def _fields_with_secrets(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields `secrets_in` walks: at 100,000 services, walking every field of every
    model (durations, names, flags) was most of the scrubber's start-up."""
    _EXAMINING.add(model)
    try:
        return tuple(
            name for name, info in model.model_fields.items() if _may_hold_secret(info.annotation)
        )
    finally:
        _EXAMINING.discard(model)


def secrets_in(value: Any) -> Iterator[str]:
    """Every `SecretStr` inside a (nested) pydantic model, mapping or sequence, resolved."""
    if isinstance(value, SecretStr):
        text = value.get_secret_value()
        yield text
        if text.startswith(("http://", "https://")):
            yield from url_secrets(text)
        elif "://" in text:  # apprise's schemes keep tokens in the host and path too
            yield from notification_url_secrets(text)
    elif isinstance(value, BaseModel):
        for name in _fields_with_secrets(type(value)):
            field = getattr(value, name)
            if field:  # None and empty lists (most of a big fleet's fields) hold nothing
                yield from secrets_in(field)
    elif isinstance(value, dict):
        for item in value.values():
            yield from secrets_in(item)
    elif isinstance(value, list | tuple | set | frozenset):
        kinds = set(map(type, value))
        model = kinds.pop() if len(kinds) == 1 else None
        if model is list:  # every service's `rpc:` list: one list of all their checks
            yield from secrets_in(list(chain.from_iterable(value)))
        elif model is not None and issubclass(model, BaseModel):  # 100,000 services: by field
            for name in _fields_with_secrets(model):  # a C loop: 4x a comprehension's speed
                yield from secrets_in(list(filter(None, map(attrgetter(name), value))))
        else:
            for item in value:
                yield from secrets_in(item)


_SEARCHED = str.maketrans(
    {**{c: c.upper() for c in "abcdef"}, **{chr(c): "\ufffd" for c in range(0xD800, 0xE000)}}
)
"""How forms and text are searched: hex letters upper-cased (`%2f` is `%2F`), surrogates (from
bytes decoded with surrogate escapes) as U+FFFD, which the automaton's UTF-8 cannot hold. One
character for one, so positions stay; each hit is then checked against the text itself."""
_HEX_UPPER = bytes.maketrans(b"abcdef", b"ABCDEF")


def _searched(text: str) -> str:
    """`text` as `_SEARCHED` writes it; ASCII text (almost all) through a byte table, several
    times faster than the str mapping (300,000 forms at 100,000 push tokens, every scrub)."""
    if text.isascii():
        return text.encode("ascii").translate(_HEX_UPPER).decode("ascii")
    return text.translate(_SEARCHED)


class _Automaton:
    """One Aho-Corasick automaton (ahocorasick-rs) over the forms as `_SEARCHED` writes them;
    `canonical[i]` is what the text under pattern `i` must be once its escapes are upper-cased
    (a tuple when several forms share one key)."""

    __slots__ = ("canonical", "search")

    def __init__(self, forms: Iterable[str]) -> None:
        keyed: dict[str, str | tuple[str, ...]] = {}
        for form in forms:
            key, canonical = _searched(form), _upper_escapes(form)
            held = keyed.setdefault(key, canonical)
            if isinstance(held, str) and held != canonical:
                keyed[key] = (held, canonical)
            elif isinstance(held, tuple) and canonical not in held:
                keyed[key] = (*held, canonical)
        self.search = ahocorasick_rs.AhoCorasick(list(keyed), store_patterns=False)
        self.canonical = list(keyed.values())

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where forms are in `text`: leftmost first, at one start the longest, none
        overlapping (what one regex of the forms, longest first, finds)."""
        found: list[tuple[int, int]] = []
        for index, start, stop in self.search.find_matches_as_indexes(
            _searched(text), overlapping=True
        ):
            piece, canonical = _upper_escapes(text[start:stop]), self.canonical[index]
            if piece == canonical or (isinstance(canonical, tuple) and piece in canonical):
                found.append((start, stop))
        found.sort(key=lambda span: (span[0], -span[1]))
        spans: list[tuple[int, int]] = []
        free = 0
        for start, stop in found:
            if start >= free:
                spans.append((start, stop))
                free = stop
        return spans


def _replaced(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each of the (sorted, disjoint) `spans` replaced by the marker."""
    pieces: list[str] = []
    kept = 0
    for start, stop in spans:
        pieces.extend((text[kept:start], REDACTED))
        kept = stop
    pieces.append(text[kept:])
    return "".join(pieces)


class Scrubber:
    """Replaces registered secrets (and their encodings) by `[redacted]`. Immutable: `with_secrets`
    returns a new one, so a later source of secrets (push tokens) registers without a reset.

    The forms are searched with one Aho-Corasick automaton: its cost per text does not grow
    with the number of secrets, where an alternation regex's did (every push token is a secret:
    at 10,000 one 60 kB answer took seconds). Matches are taken as the regex took them:
    leftmost first, at one position the longest form, so a secret containing another goes
    whole; a `%XX` escape matches in either case."""

    __slots__ = ("_automaton", "_longest", "_secrets", "_sorted")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = frozenset(s for s in secrets if len(s) >= MIN_SECRET_CHARS)
        forms = {form for s in self._secrets for form in _forms(s)}
        forms = {f for f in forms if len(f) >= MIN_SECRET_CHARS and f not in REDACTED}
        self._sorted = tuple(sorted(forms))  # for `_drop_partial_tail`'s prefix look-ups
        self._longest = max(map(len, forms), default=0)
        self._automaton = _Automaton(forms) if forms else None

    def with_secrets(self, secrets: Iterable[str]) -> Scrubber:
        return Scrubber((*self._secrets, *secrets))

    def union(self, other: Scrubber) -> Scrubber:
        """Both sets of secrets: after a reload the old ones stay hidden too. One that holds
        them all already is returned as it is: building the automaton for 100,000 push tokens
        takes seconds, and the start (an empty scrubber's union with the config's) and a reload
        that changed no secret need no second one."""
        if other._secrets <= self._secrets:
            return self
        if self._secrets <= other._secrets:
            return other
        return self.with_secrets(other._secrets)

    def __bool__(self) -> bool:
        return bool(self._sorted)

    def finds(self, *texts: str) -> bool:
        """Whether scrubbing any of `texts` (not cut) would change it, in one search."""
        joined = "\x00".join(texts)
        return "@" in joined or bool(self._spans(joined))

    def scrub(self, text: str, *, cut: bool = False) -> str:
        """`text` without any registered secret; `cut=True` if `text` was truncated, to drop a
        secret's beginning left at its end. URL userinfo goes whatever it holds."""
        if self._automaton is not None:
            for _ in range(_MAX_PASSES):  # a replacement can join text into a secret again
                spans = self._spans(text)
                if not spans:
                    break
                text = _replaced(text, spans)
            if cut:
                text = self._drop_partial_tail(text)
        return without_userinfo(text)  # after the values: it must not eat half of a known one

    def scrub_bytes(self, data: bytes, *, cut: bool = False) -> bytes:
        """`scrub` for a body: decoded as UTF-8 with surrogate escapes, so bytes survive."""
        if self._automaton is None:
            return data
        text = data.decode("utf-8", errors="surrogateescape")
        if not cut and not self._spans(text):
            return data
        return self.scrub(text, cut=cut).encode("utf-8", errors="surrogateescape")

    def _spans(self, text: str) -> list[tuple[int, int]]:
        return [] if self._automaton is None else self._automaton.spans(text)

    def _drop_partial_tail(self, text: str) -> str:
        """Remove the longest end of `text` that is the beginning of a secret's form.

        Each end no longer than the longest form is looked up by bisection in the sorted forms
        (an end is some form's beginning iff the first form not below it starts with it), so
        the cost grows with the log of the number of secrets, not with it: every push token is
        a secret."""
        view = _upper_escapes(text)  # URL-encoded forms are held with upper-case escapes
        forms = self._sorted
        for at in range(max(0, len(text) - self._longest + 1), len(text)):
            for candidate in (view, text):
                end = candidate[at:]
                i = bisect.bisect_left(forms, end)
                if i < len(forms) and forms[i].startswith(end):
                    return text[:at]
        return text

    def scrub_data(self, value: Any) -> Any:
        """Strings inside nested dicts, lists and tuples scrubbed (a structlog event, a row)."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self.scrub_data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.scrub_data(v) for v in value)
        return value


NO_SECRETS = Scrubber()
"""Still removes URL userinfo; the default where no config is at hand."""


def scrubber_for(*sources: Any) -> Scrubber:
    """One scrubber for every secret in `sources`: the loaded `MonitorConfig`, the receivers'
    configs; service URLs are plain strings and give their userinfo and query secrets."""
    found: list[str] = []
    for source in sources:
        found.extend(secrets_in(source))
        for url in filter(None, map(attrgetter("url"), getattr(source, "services", None) or ())):
            found.extend(url_secrets(url))
    return Scrubber(found)
