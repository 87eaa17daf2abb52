"""fleet monitor: polls a fleet's health and smoke paths, normalizes every answer."""

from monitor.model import CheckKind, Reason, Status

__version__ = "0.1.0"
__all__ = ["CheckKind", "Reason", "Status", "__version__"]
