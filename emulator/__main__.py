"""`python -m emulator [--host H] [--port P]`: the local Google Cloud control plane in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys

from .server import EmulatorServer
from .settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--project", default=Settings.default_project, help="default project for gcloud users")
    parser.add_argument("--region", default=Settings.default_region, help="region of v1 calls that name none")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)
    server = EmulatorServer(
        args.host, args.port, Settings(default_project=args.project, default_region=args.region), quiet=not args.verbose
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"emulator listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.emulator.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
