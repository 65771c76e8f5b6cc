"""python -m simulator --host 127.0.0.1 --port 8900 --db var/simulator.sqlite3 --api-key KEY

Port 0 picks a free port; the first line on stderr says which ("… listening on http://host:port …").
SIGTERM and Ctrl-C stop it cleanly.
"""

import argparse
import os
import signal
import sys
from pathlib import Path

from .server import DEFAULT_HANG_SECONDS, Faults, make_server


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m simulator", description="National platform simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900, help="0: any free port (printed at start)")
    parser.add_argument("--db", default="var/simulator.sqlite3", help="SQLite file (created if missing)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("SIMULATOR_API_KEY", "dev-national-key"),
        help="expected X-Api-Key (default: $SIMULATOR_API_KEY or dev-national-key)",
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every /api/ call")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of /api/ calls answered 503")
    parser.add_argument("--timeout-rate", type=float, default=0.0, help="share of /api/ calls that hang")
    parser.add_argument("--seed", type=int, default=None, help="seed for the fault dice (reproducible runs)")
    parser.add_argument(
        "--hang-seconds", type=float, default=DEFAULT_HANG_SECONDS, help="how long a hang lasts"
    )
    args = parser.parse_args(argv)

    start = {
        "latency_ms": args.latency_ms,
        "error_rate": args.error_rate,
        "timeout_rate": args.timeout_rate,
        "hang_seconds": args.hang_seconds,
    }
    if problems := Faults().problems(start):
        parser.error("; ".join(f"{p['field']}: {p['message']}" for p in problems))
    faults = Faults(**start, seed=args.seed)
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    server = make_server(args.host, args.port, db_path=args.db, api_key=args.api_key, faults=faults)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    host, port = server.server_address[:2]
    print(
        f"national platform simulator listening on http://{host}:{port} (db {args.db}, faults {faults.snapshot()})",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print("national platform simulator stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
