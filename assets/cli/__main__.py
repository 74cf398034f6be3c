"""`python -m assets.cli ...`: the `factory` command."""

from assets.cli import main

main()
