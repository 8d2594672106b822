#!/usr/bin/env bash
# Sets up (idempotent) and launches AudioNet Studio on its bundled demo project.
# Without a screen it does the demo's main job instead of opening a window nobody sees: it trains the demo,
# identifies the demo conversation, prints who speaks when and where the model and a screenshot were written.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/setup.sh
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/python -m audionet_gui --demo --headless "$@"
fi
exec .venv/bin/python -m audionet_gui --demo "$@"
