#!/usr/bin/env bash
# The full test suite: unit tests and end-to-end tests against the real PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
export NODE_ENV=test
# The browser SDK is tested in Debian's headless Chromium.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium for the browser tests…"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null \
      || { echo "could not install chromium (apt-get install chromium)"; exit 1; }
  else
    echo "the browser tests need Debian's chromium at /usr/bin/chromium: sudo apt-get install chromium"; exit 1
  fi
fi
node -r ts-node/register/transpile-only -r tsconfig-paths/register apps/cli/src/main.ts check-services
exec npx jest --ci "$@"
