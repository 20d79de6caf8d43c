"""Every sandbox channel of `make run` in one process: the sandbox website (a WordPress
stand-in), the sandbox Graph API (a Facebook Page and an Instagram account) and the X
API v2, each on its own port, each served from a thread. One interpreter instead of one
per channel saves about 20 MiB on a small office machine.

    python scripts/sandboxes.py --site-port 8091 --site-user warta --site-state sandbox.json \
        --graph-port 8092 --x-port 8093 --x-client-id warta-sandbox

Secrets come from the environment only (WARTA_SANDBOX_PASSWORD, WARTA_SANDBOX_GRAPH_TOKEN,
WARTA_SANDBOX_X_REFRESH_TOKEN), never the command line. scripts/sandbox_site.py and
scripts/sandbox_social.py serve the same fakes one at a time.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from warta_dev.sandbox.graph import FakeGraphApi
from warta_dev.sandbox.serving import make_app_server
from warta_dev.sandbox.wordpress import FakeWordPress
from warta_dev.sandbox.x import FakeX


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve every sandbox channel of `make run` in one process.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--site-port", type=int, default=8091)
    parser.add_argument("--site-user", default="warta", help="WordPress user name Warta logs in as")
    parser.add_argument("--site-state", help="JSON file that keeps the website's posts and media across restarts")
    parser.add_argument("--graph-port", type=int, default=8092)
    parser.add_argument("--x-port", type=int, default=8093)
    parser.add_argument("--x-client-id", default="warta-sandbox")
    args = parser.parse_args(argv)
    secrets = {name: os.environ.get(name) for name in
               ("WARTA_SANDBOX_PASSWORD", "WARTA_SANDBOX_GRAPH_TOKEN", "WARTA_SANDBOX_X_REFRESH_TOKEN")}
    missing = [name for name, value in secrets.items() if not value]
    if missing:
        parser.error(f"set {', '.join(missing)} in the environment")

    site = FakeWordPress(user=args.site_user, application_password=secrets["WARTA_SANDBOX_PASSWORD"],
                         state_file=args.site_state)
    servers = {
        "Sandbox website": make_app_server(site, args.host, args.site_port),
        # The Graph API and X keep no state: each start accepts the connection's tokens again.
        "Sandbox Facebook Page and Instagram (Graph API)": make_app_server(
            FakeGraphApi(tokens=(secrets["WARTA_SANDBOX_GRAPH_TOKEN"],)), args.host, args.graph_port, quiet=True),
        "Sandbox X (API v2)": make_app_server(
            FakeX(client_id=args.x_client_id, refresh_token=secrets["WARTA_SANDBOX_X_REFRESH_TOKEN"]),
            args.host, args.x_port, quiet=True),
    }
    for name, server in servers.items():
        print(f"{name}: http://{args.host}:{server.port}/", flush=True)
    print(f"  website: {len(site.published_posts())} published posts"
          + (f", kept in {args.site_state}" if args.site_state else ""), flush=True)
    # Stopped by `make run` with SIGTERM: leave like Ctrl-C (the site saves after every change).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threads = [threading.Thread(target=server.serve_forever, name=f"sandbox-{server.port}", daemon=True)
               for server in servers.values()]
    for thread in threads:
        thread.start()
    try:
        # A server that stops ends the process, so supervisord restarts the sandboxes whole.
        while all(thread.is_alive() for thread in threads):
            threads[0].join(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers.values():
            server.server_close()
    return 0 if all(thread.is_alive() for thread in threads) else 1


if __name__ == "__main__":
    sys.exit(main())
