# Install steps shared by scripts/start and scripts/test. Each one checks first
# and does nothing when its tool is already there, so a warm run is quick.
# Only the package registries are used: apt, crates.io, npm, PyPI, rustup.

# The wasm-bindgen CLI must match the crate in Cargo.lock exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$UPDRAFT_ROOT/Cargo.lock"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_apt_packages PACKAGE... installs the Debian packages that are missing.
ensure_apt_packages() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

ensure_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
}

ensure_wasm_bindgen() {
  local wanted
  wanted="$(wasm_bindgen_version)"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wanted" ]; then
    echo "==> installing wasm-bindgen-cli $wanted (takes several minutes once)"
    # Not --locked: one of its locked dependencies is not on the registry.
    cargo install wasm-bindgen-cli --version "$wanted" --force
  fi
}

ensure_cargo_leptos() {
  if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "0.3.10" ]; then
    echo "==> installing cargo-leptos 0.3.10 (about 20 minutes once)"
    # 0.3.11 needs a newer rustc; no_downloads keeps it on the tools npm installed.
    cargo install cargo-leptos --version 0.3.10 --locked --features no_downloads
  fi
}

# npm packages: the Flyte IDL the proto crate compiles, Tailwind and wasm-opt
# (root), and playwright-core (end2end). `npm install`, not `npm ci`: the lock
# names platform packages the registry does not serve for every platform.
ensure_npm_packages() {
  local dir
  for dir in "$UPDRAFT_ROOT" "$UPDRAFT_ROOT/end2end" "$UPDRAFT_ROOT/auth/test-provider"; do
    if [ ! -f "$dir/node_modules/.updraft-installed" ] || [ "$dir/package.json" -nt "$dir/node_modules/.updraft-installed" ]; then
      echo "==> npm install in ${dir/#"$UPDRAFT_ROOT"/.}"
      # --no-save: npm 11 writes other platforms' optional packages into the
      # lock file, which would leave a fresh clone dirty.
      (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --no-save)
      touch "$dir/node_modules/.updraft-installed"
    fi
  done
}

# The Python environment tasks run in and flytekit tests use.
ensure_python_venv() {
  local venv="$UPDRAFT_ROOT/.venv" requirements="$UPDRAFT_ROOT/end2end/flytekit/requirements.txt"
  if [ ! -x "$venv/bin/python" ]; then
    echo "==> creating the Python environment in .venv"
    python3 -m venv "$venv"
  fi
  if [ ! -f "$venv/.updraft-installed" ] || [ "$requirements" -nt "$venv/.updraft-installed" ]; then
    echo "==> installing flytekit into .venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    touch "$venv/.updraft-installed"
  fi
}
