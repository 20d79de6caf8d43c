"""The sandbox social channels of `make run`: stand-ins for Meta's Graph API (a Facebook
Page and an Instagram account) and the X API v2, so a whole run publishes everywhere
with no accounts.

    python scripts/sandbox_social.py --graph-port 8092 --x-port 8093 \
        --graph-token TOKEN --x-client-id ID --x-refresh-token TOKEN

Open http://127.0.0.1:8092/ and http://127.0.0.1:8093/ to see what was posted. Posts are
kept in memory only (a restart starts empty).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from warta_dev.sandbox.graph import FakeGraphApi
from warta_dev.sandbox.serving import make_app_server
from warta_dev.sandbox.x import FakeX


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve Warta's sandbox Graph API and X API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--graph-port", type=int, default=8092)
    parser.add_argument("--x-port", type=int, default=8093)
    parser.add_argument("--graph-token", default=os.environ.get("WARTA_SANDBOX_GRAPH_TOKEN"),
                        help="the access token the sandbox Graph API accepts")
    parser.add_argument("--x-client-id", default="warta-sandbox")
    parser.add_argument("--x-refresh-token", default=os.environ.get("WARTA_SANDBOX_X_REFRESH_TOKEN"),
                        help="the refresh token the sandbox X API accepts first (it rotates)")
    args = parser.parse_args(argv)
    if not args.graph_token or not args.x_refresh_token:
        parser.error("--graph-token and --x-refresh-token are required")

    graph = make_app_server(FakeGraphApi(tokens=(args.graph_token,)), args.host, args.graph_port, quiet=True)
    x_api = make_app_server(FakeX(client_id=args.x_client_id, refresh_token=args.x_refresh_token),
                            args.host, args.x_port, quiet=True)
    print(f"Sandbox Facebook Page and Instagram (Graph API): http://{args.host}:{graph.port}/", flush=True)
    print(f"Sandbox X (API v2): http://{args.host}:{x_api.port}/", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Thread(target=x_api.serve_forever, daemon=True).start()
    try:
        graph.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        graph.server_close()
        x_api.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
