# Sourced by the other scripts: puts the tools setup.sh installed on PATH.
export PATH="$HOME/.cargo/bin:${PUSHLAB_TOOLS:-$HOME/.cache/pushlab-tools}/node_modules/.bin:$PATH"
