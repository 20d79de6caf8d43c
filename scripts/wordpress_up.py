"""A real WordPress on 127.0.0.1 for the tests: Debian's packages, MariaDB, and Apache
with a configuration of our own on a free loopback port (never the system service).

    python scripts/wordpress_up.py up   [--dir DIR] [--port N]   # prints the site as JSON
    python scripts/wordpress_up.py down [--dir DIR]

``up`` is idempotent: it installs only the packages that are missing (needs root; runs
``apt-get update`` first when the package lists are empty or stale), starts MariaDB
with its init script when it is not running, creates a fresh database and user, writes
``/etc/wordpress/config-127.0.0.1.php`` (``WP_ENVIRONMENT_TYPE`` is ``local`` so
Application Passwords work over plain http), starts Apache, installs WordPress through
``wp_install()`` and creates an Application Password for the Administrator and for a
second user with the Author role (no ``unfiltered_html``: kses filters what it saves).
It writes ``DIR/site.json``: ``{"url", "user", "application_password", "admin_password",
"author_user", "author_application_password", "port"}``.

Several test sessions on one machine each get their own site: Debian's wp-config picks
the configuration by host name, so a second one while the first runs listens on
127.0.0.2 (``config-127.0.0.2.php``, its own database), and so on. ``down`` stops the
Apache it started, and MariaDB when Warta started it and no other site is running.
Only the standard library is used, so it runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

PACKAGES = (
    "wordpress", "wordpress-theme-twentytwentythree", "mariadb-server", "apache2", "libapache2-mod-php",
    "php-mysql", "php-gd", "php-xml", "php-curl", "php-mbstring",
)
DEFAULT_DIR = Path(os.environ.get("WARTA_WORDPRESS_DIR", "/var/tmp/warta-wordpress"))
# The sites running now (one file per loopback address) and whether Warta started MariaDB.
REGISTRY = Path("/var/tmp/warta-wordpress-sites")
WP_USER = "warta"
WP_AUTHOR = "warta_penulis"
WORDPRESS_ROOT = Path("/usr/share/wordpress")
CONTENT_DIR = Path("/var/lib/wordpress/wp-content")
APACHE_MODULES = Path("/usr/lib/apache2/modules")


class Site:
    """One site's loopback address and the names derived from it."""

    def __init__(self, host: str):
        self.host = host
        number = host.rsplit(".", 1)[1]
        self.db_name = f"warta_wp_test_{number}"
        self.db_user = f"warta_wp_test_{number}"
        self.config = Path(f"/etc/wordpress/config-{host}.php")
        self.entry = REGISTRY / f"{host}.json"


def log(message: str) -> None:
    print(f"wordpress_up: {message}", file=sys.stderr, flush=True)


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=True, text=True, **kwargs)


# ----------------------------------------------------------------- packages
def missing_packages() -> list[str]:
    missing = []
    for package in PACKAGES:
        result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        if result.returncode != 0 or "install ok installed" not in result.stdout:
            missing.append(package)
    return missing


def install_packages() -> None:
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"wordpress_up: packages missing ({' '.join(missing)}) and not root to install them")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    lists = Path("/var/lib/apt/lists")
    stale = not any(lists.glob("*Packages*")) or time.time() - lists.stat().st_mtime > 7 * 86400
    if stale:
        log("apt-get update")
        run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
    # Package scripts must not start the system's own Apache and MariaDB: we run our own.
    policy = Path("/usr/sbin/policy-rc.d")
    added_policy = not policy.exists()
    if added_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        log(f"apt-get install {' '.join(missing)}")
        command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
        if subprocess.run(command, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)  # lists may be out of date
            run(command, env=env, stdout=subprocess.DEVNULL)
    finally:
        if added_policy:
            policy.unlink()


# ------------------------------------------------------------------ MariaDB
def mariadb_running() -> bool:
    return subprocess.run(["mysqladmin", "--protocol=socket", "ping"], capture_output=True).returncode == 0


def start_mariadb() -> None:
    if mariadb_running():
        return
    log("starting MariaDB")
    run(["/etc/init.d/mariadb", "start"], stdout=subprocess.DEVNULL)
    (REGISTRY / "mariadb-started").touch()  # the last site to stop stops it too


def create_database(site: Site, password: str) -> None:
    """A fresh, empty database for every `up`: each test session starts from a new site."""
    sql = (
        f"DROP DATABASE IF EXISTS {site.db_name};"
        f"CREATE DATABASE {site.db_name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
        f"CREATE USER IF NOT EXISTS '{site.db_user}'@'localhost' IDENTIFIED BY '{password}';"
        f"ALTER USER '{site.db_user}'@'localhost' IDENTIFIED BY '{password}';"
        f"GRANT ALL PRIVILEGES ON {site.db_name}.* TO '{site.db_user}'@'localhost';"
        "FLUSH PRIVILEGES;"
    )
    run(["mysql", "--protocol=socket", "-u", "root"], input=sql)


# ---------------------------------------------------------------- WordPress
def php_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def write_site_config(site: Site, port: int, db_password: str) -> None:
    url = f"http://{site.host}:{port}"
    keys = "\n".join(
        f"define({php_string(name)}, {php_string(secrets.token_urlsafe(48))});"
        for name in ("AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
                     "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT")
    )
    site.config.parent.mkdir(parents=True, exist_ok=True)
    site.config.write_text(
        "<?php\n// Written by Warta's scripts/wordpress_up.py for the tests; rewritten on every start.\n"
        f"define('DB_NAME', {php_string(site.db_name)});\n"
        f"define('DB_USER', {php_string(site.db_user)});\n"
        f"define('DB_PASSWORD', {php_string(db_password)});\n"
        "define('DB_HOST', 'localhost');\n"
        f"define('WP_HOME', {php_string(url)});\n"
        f"define('WP_SITEURL', {php_string(url)});\n"
        f"define('WP_CONTENT_DIR', {php_string(str(CONTENT_DIR))});\n"
        # Application Passwords need https, or an environment type of 'local'.
        "define('WP_ENVIRONMENT_TYPE', 'local');\n"
        "define('FS_METHOD', 'direct');\n"
        "define('WP_HTTP_BLOCK_EXTERNAL', true);\n"
        "define('AUTOMATIC_UPDATER_DISABLED', true);\n"
        "define('DISABLE_WP_CRON', true);\n"
        f"{keys}\n"
    )
    site.config.chmod(0o640)
    shutil.chown(site.config, group="www-data")
    uploads = CONTENT_DIR / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    shutil.chown(uploads, user="www-data", group="www-data")


def install_wordpress(site: Site, port: int, admin_password: str) -> dict:
    """Install the site, add the Author, and create an Application Password for each;
    returns ``{"application_password", "author_application_password"}``."""
    script = f"""
    $_SERVER['HTTP_HOST'] = '{site.host}:{port}';
    $_SERVER['SERVER_NAME'] = '{site.host}';
    $_SERVER['REQUEST_URI'] = '/';
    define('WP_INSTALLING', true);
    require '{WORDPRESS_ROOT}/wp-load.php';
    require_once ABSPATH . 'wp-admin/includes/upgrade.php';
    if (!is_blog_installed()) {{
        wp_install('Warta Test Site', '{WP_USER}', 'warta@example.test', false, '', {php_string(admin_password)});
    }}
    switch_theme('twentytwentythree');
    $user = get_user_by('login', '{WP_USER}');
    list($password, $item) = WP_Application_Passwords::create_new_application_password(
        $user->ID, array('name' => 'warta-tests'));
    // An Author may publish and upload but not post unfiltered HTML (its login password is never used).
    $author_id = wp_insert_user(array('user_login' => '{WP_AUTHOR}', 'user_pass' => wp_generate_password(24),
        'user_email' => 'penulis@example.test', 'role' => 'author'));
    list($author_password, $author_item) = WP_Application_Passwords::create_new_application_password(
        $author_id, array('name' => 'warta-tests'));
    echo json_encode(array('application_password' => $password, 'author_application_password' => $author_password));
    """
    # On standard input, not `php -r`: the script holds the admin password (no secret in `ps`).
    result = run(["php"], input="<?php\n" + script, capture_output=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------- Apache
def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def php_module() -> Path:
    found = sorted(APACHE_MODULES.glob("libphp*.so"))
    if not found:
        raise SystemExit("wordpress_up: libapache2-mod-php's module is not in /usr/lib/apache2/modules")
    return found[-1]


def write_apache_config(folder: Path, host: str, port: int) -> Path:
    modules = ["mpm_prefork", "authz_core", "authz_host", "dir", "mime", "alias", "env", "setenvif",
               "rewrite", "headers"]
    lines = [f"LoadModule {name}_module {APACHE_MODULES}/mod_{name}.so" for name in modules]
    lines.append(f"LoadModule php_module {php_module()}")
    config = folder / "apache.conf"
    config.write_text("\n".join([
        "# Written by Warta's scripts/wordpress_up.py: a private Apache for the tests.",
        "ServerRoot /etc/apache2",
        f"ServerName {host}",
        f"Listen {host}:{port}",
        f"PidFile {folder}/apache.pid",
        f"DefaultRuntimeDir {folder}",
        f"Mutex file:{folder} default",
        f"ErrorLog {folder}/apache-error.log",
        "LogLevel warn",
        *lines,
        "User www-data",
        "Group www-data",
        "StartServers 2",
        "MinSpareServers 2",
        "MaxSpareServers 4",
        "MaxRequestWorkers 16",
        "TypesConfig /etc/mime.types",
        f"DocumentRoot {WORDPRESS_ROOT}",
        "DirectoryIndex index.php index.html",
        f"Alias /wp-content {CONTENT_DIR}",
        f"<Directory {WORDPRESS_ROOT}>",
        "    Options FollowSymLinks",
        "    AllowOverride None",
        "    Require all granted",
        "</Directory>",
        f"<Directory {CONTENT_DIR}>",
        "    Options FollowSymLinks",
        "    AllowOverride None",
        "    Require all granted",
        "</Directory>",
        '<FilesMatch "\\.php$">',
        "    SetHandler application/x-httpd-php",
        "</FilesMatch>",
        "",
    ]))
    return config


def start_apache(folder: Path, host: str, port: int) -> int:
    """Start Apache in the background; returns its pid."""
    config = write_apache_config(folder, host, port)
    env = dict(os.environ, APACHE_RUN_DIR=str(folder), APACHE_LOCK_DIR=str(folder), APACHE_LOG_DIR=str(folder))
    run(["/usr/sbin/apache2", "-f", str(config), "-k", "start"], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        # Apache listens before it has detached and written its pid file: wait for both.
        try:
            with socket.create_connection((host, port), timeout=1):
                pid = int((folder / "apache.pid").read_text().strip())
                return pid
        except (OSError, ValueError):
            time.sleep(0.2)
    raise SystemExit(f"wordpress_up: Apache did not start on {host}:{port}; see {folder}/apache-error.log")


def stop_apache(folder: Path) -> None:
    pid_file = folder / "apache.pid"
    if not pid_file.exists():
        return
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 15)
    except (ValueError, ProcessLookupError):
        pid_file.unlink(missing_ok=True)
        return
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    pid_file.unlink(missing_ok=True)


def wait_for_site(url: str) -> None:
    deadline = time.monotonic() + 30
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.3)
    raise SystemExit(f"wordpress_up: {url} did not answer: {last}")


# ------------------------------------------------------------------ commands
@contextlib.contextmanager
def registry_lock():
    """One `up` or `down` at a time on this machine (they share MariaDB and /etc/wordpress)."""
    REGISTRY.mkdir(parents=True, exist_ok=True)
    with open(REGISTRY / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def live_sites() -> dict[str, dict]:
    """The registered sites whose Apache still runs (stale entries are removed)."""
    sites = {}
    for entry in REGISTRY.glob("127.*.json"):
        try:
            info = json.loads(entry.read_text())
        except ValueError:
            info = {}
        if pid_alive(int(info.get("apache_pid") or 0)):
            sites[entry.stem] = info
        else:
            entry.unlink(missing_ok=True)
    return sites


def choose_site(folder: Path) -> Site:
    taken = {host for host, info in live_sites().items() if info.get("dir") != str(folder)}
    for number in range(1, 255):
        if f"127.0.0.{number}" not in taken:
            return Site(f"127.0.0.{number}")
    raise SystemExit("wordpress_up: every loopback address already has a test site")


def up(folder: Path, port: int | None) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # Apache's children (www-data) read the runtime dir
    install_packages()
    with registry_lock():
        stop_apache(folder)  # a leftover from an interrupted run
        site = choose_site(folder)
        start_mariadb()
        port = port or free_port(site.host)
        db_password = secrets.token_urlsafe(18)
        admin_password = secrets.token_urlsafe(18)
        create_database(site, db_password)
        write_site_config(site, port, db_password)
        passwords = install_wordpress(site, port, admin_password)
        apache_pid = start_apache(folder, site.host, port)
        site.entry.write_text(json.dumps({"dir": str(folder), "apache_pid": apache_pid}))
    url = f"http://{site.host}:{port}"
    wait_for_site(url)
    info = {"url": url, "host": site.host, "port": port, "user": WP_USER,
            "application_password": passwords["application_password"], "admin_password": admin_password,
            "author_user": WP_AUTHOR, "author_application_password": passwords["author_application_password"]}
    site_file = folder / "site.json"
    site_file.write_text(json.dumps(info, indent=2))
    site_file.chmod(0o600)
    return info


def down(folder: Path) -> None:
    with registry_lock():
        stop_apache(folder)
        for host, info in list(live_sites().items()):
            if info.get("dir") == str(folder):
                Site(host).entry.unlink(missing_ok=True)
        flag = REGISTRY / "mariadb-started"
        if flag.exists() and not live_sites():
            if mariadb_running():
                run(["/etc/init.d/mariadb", "stop"], stdout=subprocess.DEVNULL)
            flag.unlink(missing_ok=True)
    (folder / "site.json").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start or stop a real WordPress on 127.0.0.1 for the tests.")
    parser.add_argument("command", choices=("up", "down"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="runtime folder (default: %(default)s)")
    parser.add_argument("--port", type=int, help="port for Apache (default: a free one)")
    args = parser.parse_args(argv)
    if args.command == "up":
        print(json.dumps(up(args.dir, args.port)))
    else:
        down(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
