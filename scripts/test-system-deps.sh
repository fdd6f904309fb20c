#!/bin/sh
# System packages the test-suite needs (installed by the test setup itself, never by hand).
# Idempotent and quick when already installed. Runs as root in CI.
set -e
# Headless browser for tests/test_dashboard_browser.py (Debian chromium, driven by Playwright
# through executable_path; fonts-dejavu-core: the font the overflow checks are measured with).
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
