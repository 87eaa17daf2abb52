"""The human face of the monitor: a status page and README badges (view model in view.py,
uptime and incidents from stored changes in history.py)."""

from monitor.web.routes import register

__all__ = ["register"]
