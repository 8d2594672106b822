#!/usr/bin/env bash
# Sets up (idempotent) and launches AudioNet Studio on its bundled demo project.
# Without a screen it runs under Xvfb (install xvfb via setup) so the command still works on a server.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/setup.sh
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ "${QT_QPA_PLATFORM:-}" != offscreen ]; then
  echo "demo: no screen found; running under Xvfb" >&2
  exec xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python -m audionet_gui --demo "$@"
fi
exec .venv/bin/python -m audionet_gui --demo "$@"
