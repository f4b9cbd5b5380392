"""runway's command line: `python main.py --help`."""
