#!/usr/bin/env bash
# Set up everything the tests need, then run the whole test suite (lint included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
.venv/bin/ruff check kb tests scripts
.venv/bin/python -m pytest "$@"
