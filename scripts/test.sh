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
if [ $# -gt 0 ]; then
    exec .venv/bin/python -m pytest -q "$@"
fi
# Three workers on the two cores for the tests that can share the machine (each waits for child processes and
# timers part of the time: 9.4 against 10.3 min with two; a file's tests stay on one worker, so its trained
# fixtures are made once); then, alone, the tests that measure the GUI's stalls or use the one virtual microphone.
status=0
.venv/bin/python -m pytest -q -n 3 --dist loadfile -m "not serial and not live" --durations=15 || status=$?
.venv/bin/python -m pytest -q -m "serial or live" --durations=5 || status=$?
exit $status
