"""Receivers: one module per kind behind `Receiver`, registered here and only here.

`tests/test_receivers.py` checks that every public module of this package is in RECEIVERS.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.receivers._base import (
    DeliveryResult,
    Outcome,
    Receiver,
    ReceiverConfig,
    ReceiverFactory,
    Request,
)
from monitor.receivers.alertmanager import AlertmanagerReceiver
from monitor.receivers.apprise import AppriseReceiver
from monitor.receivers.log import LogReceiver
from monitor.receivers.pagerduty import PagerDutyReceiver
from monitor.receivers.slack import SlackReceiver
from monitor.receivers.webhook import WebhookReceiver

RECEIVERS: dict[str, ReceiverFactory] = {
    "alertmanager": AlertmanagerReceiver,
    "apprise": AppriseReceiver,
    "log": LogReceiver,
    "pagerduty": PagerDutyReceiver,
    "slack": SlackReceiver,
    "webhook": WebhookReceiver,
}


def build_receivers(configs: Mapping[str, ReceiverConfig]) -> dict[str, Receiver]:
    """Receivers by name from the validated configs in `AlertRules.receivers`."""
    return {name: RECEIVERS[cfg.type](cfg) for name, cfg in configs.items()}


__all__ = [
    "RECEIVERS",
    "DeliveryResult",
    "Outcome",
    "Receiver",
    "ReceiverConfig",
    "ReceiverFactory",
    "Request",
    "build_receivers",
]
