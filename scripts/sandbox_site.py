"""The sandbox website of `make run`: a stand-in WordPress site Warta publishes to.

    python scripts/sandbox_site.py --port 8091 --user warta --password 'xxxx xxxx' [--state sandbox.json]

Open http://127.0.0.1:8091/ to see the published news. Point Warta at it with the Airflow
Connection ``warta_website`` (host 127.0.0.1, the port, schema http, this user and password).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from warta_dev.sandbox.serving import make_app_server
from warta_dev.sandbox.wordpress import ROLE_CAPABILITIES, FakeWordPress


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve Warta's sandbox website (a WordPress stand-in).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8091, help="port to listen on (default: %(default)s)")
    parser.add_argument("--user", default="warta", help="WordPress user name Warta logs in as")
    parser.add_argument("--password", default=os.environ.get("WARTA_SANDBOX_PASSWORD"),
                        help="that user's application password (or set WARTA_SANDBOX_PASSWORD)")
    parser.add_argument("--state", help="JSON file that keeps posts and media across restarts")
    parser.add_argument("--plain-permalinks", action="store_true",
                        help="serve the API only as ?rest_route=, like a site without pretty permalinks")
    parser.add_argument("--title", default="Warta Sandbox", help="site title")
    parser.add_argument("--role", default="administrator", choices=sorted(ROLE_CAPABILITIES),
                        help="WordPress role of the user (author: no unfiltered_html, kses filters what it saves)")
    args = parser.parse_args(argv)
    if not args.password:
        parser.error("--password (or WARTA_SANDBOX_PASSWORD) is required")

    site = FakeWordPress(user=args.user, application_password=args.password,
                         pretty_permalinks=not args.plain_permalinks, site_title=args.title, state_file=args.state,
                         role=args.role)
    server = make_app_server(site, args.host, args.port)
    connection = {"conn_type": "http", "host": args.host, "port": server.port, "schema": "http",
                  "login": args.user, "password": "<the --password>"}
    print(f"Sandbox website: http://{args.host}:{server.port}/", flush=True)
    print(f"  {len(site.published_posts())} published posts" + (f", kept in {args.state}" if args.state else ""))
    print(f"  Airflow Connection warta_website: {json.dumps(connection)}", flush=True)
    # Stopped by `make run` with SIGTERM: leave like Ctrl-C (state is saved after every change).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
