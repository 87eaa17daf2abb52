"""The imperative shell of `monitor run`: the daemon object with its settings and one record per
check, the check scheduler, the lateness watch, /healthz, the garbage-collector policy and the
SQLite store. What here does I/O or reads the clock stays here; the decisions it applies are the
pure modules at the top of the package."""
