"""`python -m privscan` runs the CLI."""

from privscan.cli.app import main

main()
