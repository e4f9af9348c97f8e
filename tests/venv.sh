# Shared by the test scripts that drive servers from Python (source it from the project
# root): `venv_with PACKAGE...` makes the virtual environment target/e2e-venv if it is not
# there, installs the packages into it, and sets $venv.
venv_with() {
  venv=target/e2e-venv
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
}
