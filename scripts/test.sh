#!/usr/bin/env bash
# The full test suite: unit tests and end-to-end tests against the real PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
export NODE_ENV=test
node -r ts-node/register/transpile-only -r tsconfig-paths/register apps/cli/src/main.ts check-services
exec npx jest --ci "$@"
