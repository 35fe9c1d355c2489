"""`python -m selftaught` runs the command line."""

from selftaught.cli.app import main

main()
