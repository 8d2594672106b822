#!/usr/bin/env bash
# Sets up (idempotent), lints (ruff) and runs the whole test suite, with the virtual microphone for the live tests.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/setup.sh
eval "$(bash scripts/virtual_mic.sh start)" || echo "test: no virtual microphone; live tests will be skipped" >&2
.venv/bin/ruff check .  # lint first: configured in pyproject.toml ([tool.ruff])
export QT_QPA_PLATFORM=offscreen
export TF_CPP_MIN_LOG_LEVEL=2
exec .venv/bin/python -m pytest -q "$@"
