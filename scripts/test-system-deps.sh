#!/bin/sh
# System packages the test-suite needs (installed by the test setup itself, never by hand).
# Idempotent and quick when already installed. Runs as root in CI.
set -e
# Headless browser for tests/test_dashboard_browser.py and tests/test_portal_browser.py (Debian
# chromium, driven by Playwright through executable_path; fonts-dejavu-core: the font the
# overflow checks are measured with).
if [ ! -x /usr/bin/chromium ] || [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then
        if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
            echo "test-system-deps: not root and no sudo: cannot install chromium" \
                 "(the browser test will be skipped)" >&2
            exit 0
        fi
    fi
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
        chromium fonts-dejavu-core \
        || echo "test-system-deps: chromium install failed (the browser test will be skipped)" >&2
fi
# The service tests (issue 17): a real PostgreSQL server (a throw-away cluster on loopback,
# tests/pg_server.py) and Node.js for the real OpenID Provider of tests/oidc (node-oidc-provider,
# pinned by its package-lock.json; `npm ci` installs exactly that).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
   || ! command -v node >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
    if [ "$(id -u)" = "0" ] || [ -n "$SUDO" ]; then
        $SUDO apt-get update -q
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
            postgresql nodejs npm \
            || echo "test-system-deps: postgresql/nodejs install failed (those tests skip)" >&2
    fi
fi
OIDC_DIR="$(dirname "$0")/../tests/oidc"
if command -v npm >/dev/null 2>&1 && [ ! -d "$OIDC_DIR/node_modules/oidc-provider" ]; then
    (cd "$OIDC_DIR" && npm ci --no-audit --no-fund --loglevel=error) \
        || echo "test-system-deps: npm ci in tests/oidc failed (the OIDC tests skip)" >&2
fi
# PostgreSQL server for tests/pg_server.py (PRIMA on PostgreSQL, the service's state): the
# tests create a throw-away cluster with initdb/pg_ctl; the packaged service is not used.
# Java runtime for PySpark (tests/test_engines_spark.py, `linkage code --engine spark`):
# Spark 4 needs Java 17 or newer (Debian 12's default-jre-headless is 17).
NEED=""
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || NEED="$NEED postgresql"
java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' || NEED="$NEED default-jre-headless"
if [ -n "$NEED" ]; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then
        if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
            echo "test-system-deps: not root and no sudo: cannot install$NEED" \
                 "(the PostgreSQL / Spark tests will be skipped)" >&2
            exit 0
        fi
    fi
    $SUDO apt-get update -q
    # shellcheck disable=SC2086  # NEED is a list of package names
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $NEED \
        || echo "test-system-deps:$NEED install failed (those tests will be skipped)" >&2
fi
# iproute2 (`ip netns`, veth, bridge) for tests/test_network_e2e.py: the SPP, the BCSS and the
# committee each in a network namespace of their own (as root; on loopback, with a warning in
# the test output, where the machine does not permit namespaces).
if ! command -v ip >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends iproute2 \
        || echo "test-system-deps: iproute2 install failed (the three-host test runs on" \
                "loopback)" >&2
fi
