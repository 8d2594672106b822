#!/usr/bin/env bash
# Sets up everything AudioNet Studio needs on Debian 12 (as root): system packages, a venv in .venv,
# the project in editable mode with its test tools. Idempotent: a second run only checks and returns.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

apt_packages=(ffmpeg libportaudio2 xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-cursor0
  libxcb-render-util0 libxcb-image0 libxcb-shape0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3
  pulseaudio pulseaudio-utils libasound2-plugins desktop-file-utils)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python 3.11 or 3.12 (what TensorFlow 2.21 and librosa 0.11 support; 3.11 is what CI runs).
py=""
for cand in python3.11 python3.12 python3; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(0 if (3,11) <= sys.version_info[:2] <= (3,12) else 1)'; then
    py=$cand; break
  fi
done
[ -n "$py" ] || { echo "setup: needs Python 3.11 or 3.12" >&2; exit 1; }
[ -x .venv/bin/python ] || "$py" -m venv .venv

stamp=.venv/.audionet-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d" " -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev,bundle]"  # bundle: PyInstaller, so the spec is tested
  echo "$want" > "$stamp"
fi
echo "setup: ready ($(.venv/bin/python --version), venv at $here/.venv)"
