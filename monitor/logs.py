"""structlog setup: key=value events with stable names; JSON when not on a terminal.

Every event passes `scrub_secrets` before it is rendered, and stdlib records (aiohttp, asyncio)
a filter doing the same: a secret in an exception message or a receiver's answer must not reach
the log. The scrubber is the one module-level value here, set explicitly by the command that
loaded the config (`set_log_scrubber`), at start and after a reload.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from monitor.secrets_scrub import NO_SECRETS, Scrubber

_log_scrubber: list[Scrubber] = [NO_SECRETS]


def set_log_scrubber(scrubber: Scrubber) -> None:
    """Use `scrubber` for every log line from now on (the config's secrets)."""
    _log_scrubber[0] = scrubber


def scrub_secrets(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> Mapping[str, Any]:
    """A structlog processor: every string in the event (keys' values, nested) scrubbed."""
    scrubber = _log_scrubber[0]
    return {key: scrubber.scrub_data(value) for key, value in event_dict.items()}


class _ScrubbingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _log_scrubber[0].scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.msg = f"{record.msg}\n{_log_scrubber[0].scrub(text)}"
            record.exc_info, record.exc_text = None, None
        return True


def configure_logging(
    level: str = "info", stream: TextIO | None = None, json: bool | None = None
) -> None:
    stream = stream or sys.stderr
    as_json = (not stream.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            scrub_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    # APScheduler and aiohttp speak through stdlib logging: keep their warnings, on stderr.
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _ScrubbingFilter) for f in handler.filters):
            handler.addFilter(_ScrubbingFilter())
    logging.getLogger("apscheduler.executors").setLevel(logging.ERROR)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
