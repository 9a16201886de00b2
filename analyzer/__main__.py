"""`python -m analyzer` is the `analyze` command."""

from analyzer.cli import main

main()
