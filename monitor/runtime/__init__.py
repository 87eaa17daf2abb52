"""The imperative shell of `monitor run`: the daemon object, the check scheduler, the lateness
watch, the garbage-collector policy and the SQLite store. Everything here does I/O or reads the
clock; the decisions it applies are the pure modules at the top of the package."""
