"""Check kinds beyond the HTTP ones: one config model per kind, resolved into a `Check`'s spec.

Each module holds what `monitor.yaml` says under the kind's key (`tcp:`, ...) and the frozen
spec its probe in `monitor.probes` reads; config.py only lists them. Nothing here does I/O.
"""
