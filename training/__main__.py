"""`python -m training` runs the training CLI."""

from training.cli import main

main()
