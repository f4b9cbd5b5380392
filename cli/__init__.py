"""runway's command line (`python main.py --help`). Not deployed with the functions."""

from .main import main

__all__ = ["main"]
