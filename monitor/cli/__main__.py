"""`python -m monitor.cli` is `monitor`, as it was when the command line was one module."""

from monitor.cli import main

main()
