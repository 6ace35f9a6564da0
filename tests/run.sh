#!/bin/sh
# The test command (README.md, .ci/run): install what the tests need, only what is missing —
# the Debian packages below, and this checkout (editable, with its test extras) in a virtual
# environment of its own under ~/.cache/mycrmd — then run pytest with any arguments given,
# that environment's bin first on PATH (daemon tests run the mycrmd command from PATH).
# pytest's exit status is the script's, 5 included.
#
#   sh tests/run.sh [pytest arguments]
set -eu
cd "$(dirname "$0")/.."
. systemd/prerequisites.sh

# MariaDB (the embedded server with Mroonga for the mail search, the dump tool), a three-node Galera cluster (mariadb-server
# brings its SST script; galera-4, rsync), Dovecot, Chromium and a CJK font for the UI,
# libatomic1 for the node program that Playwright's Python package drives Chromium with.
packages="mariadb-server-core mariadb-client mariadb-server mariadb-plugin-mroonga galera-4 rsync dovecot-imapd"
packages="$packages chromium fonts-wqy-microhei libatomic1"
# shellcheck disable=SC2086 # one word per package
install_missing $packages

# One environment per checkout, named after its path.
checkout=$(pwd -P)
key=$(printf %s "$checkout" | md5sum | cut -c1-12)
venv_dir="${XDG_CACHE_HOME:-$HOME/.cache}/mycrmd/tests-$(basename "$checkout")-$key"
make_venv "$venv_dir"
# The install is editable: it needs redoing only when pyproject.toml changed (a pip that has
# nothing to do still takes seconds), or when the environment lost it.
if ! cmp -s pyproject.toml "$venv_dir/installed-pyproject.toml" ||
    ! "$venv_dir/bin/python" -I -B -c "import mycrmd, pytest" 2>/dev/null; then
    "$venv_dir/bin/python" -m pip install --quiet -e '.[test]'
    cp pyproject.toml "$venv_dir/installed-pyproject.toml"
fi

PATH="$venv_dir/bin:$PATH"
export PATH
exec "$venv_dir/bin/python" -m pytest "$@"
