#!/usr/bin/env bash
# Install an acore_bot candidate's own environment (BOT_DIR/.venv) the way the candidate
# declares its dependencies, as on the bot's host:
#   uv.lock                      -> uv sync --frozen (exactly what is locked)
#   pyproject.toml with [project] -> .venv/bin/python -m pip install -e .
#   requirements.txt             -> .venv/bin/python -m pip install -r requirements.txt
# A candidate that declares nothing gets an empty .venv: the gate's import rehearsal then
# says what its entrypoint cannot import. Used by acore-doctor.yml; pip and uv read their
# usual environment (PIP_INDEX_URL, PIP_FIND_LINKS, UV_INDEX...).
#
# usage: install-candidate.sh BOT_DIR [PYTHON]     (PYTHON: the interpreter for the venv)
set -euo pipefail

bot_dir=${1:?usage: install-candidate.sh BOT_DIR [PYTHON]}
python=${2:-python3}
cd "$bot_dir"

layout() {
  if [ -f uv.lock ]; then
    echo uv
  elif [ -f pyproject.toml ] && grep -q '^[[:space:]]*\[project\]' pyproject.toml; then
    echo pyproject
  elif [ -f requirements.txt ]; then
    echo requirements
  else
    echo none
  fi
}

kind=$(layout)
case "$kind" in
  uv)
    if ! command -v uv >/dev/null 2>&1; then
      echo "::error::the candidate has uv.lock but uv is not installed (add astral-sh/setup-uv)" >&2
      exit 1
    fi
    echo "install-candidate: uv.lock -> uv sync --frozen"
    UV_PROJECT_ENVIRONMENT="$PWD/.venv" uv sync --frozen --python "$python"
    ;;
  pyproject)
    echo "install-candidate: pyproject.toml -> pip install -e ."
    "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet -e .
    ;;
  requirements)
    echo "install-candidate: requirements.txt -> pip install -r requirements.txt"
    "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet -r requirements.txt
    ;;
  none)
    echo "install-candidate: no uv.lock, pyproject.toml [project] or requirements.txt: empty .venv"
    "$python" -m venv .venv
    ;;
esac
