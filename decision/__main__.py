"""`python -m decision` is the `decision` command."""

from decision.cli import main

main()
