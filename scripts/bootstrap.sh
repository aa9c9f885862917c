#!/usr/bin/env bash
# Set up a fresh machine for kb: a virtual environment in .venv with kb installed, every package at the
# version constraints.txt names (those the test suite last passed with).
#   scripts/bootstrap.sh          kb and its runtime dependencies
#   scripts/bootstrap.sh test     also the test tools and Debian's headless Chromium
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "test" ]; then
  .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[test]'
  if ! command -v chromium >/dev/null 2>&1; then
    # Browser tests drive Debian's Chromium; Playwright's own browser download cannot be used here.
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
else
  .venv/bin/python -m pip install --quiet -c constraints.txt -e .
fi
