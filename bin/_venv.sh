# Sourced by bin/clash and bin/test: make sure .venv exists with the project installed.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.installed-$(cksum < "$root/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$stamp" ]; then
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || { echo "Clash needs Python 3.11 or newer" >&2; exit 1; }
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[test]" >&2 \
        || { echo "installing Clash into .venv failed" >&2; exit 1; }
    rm -f "$venv"/.installed-* && touch "$stamp"
fi
