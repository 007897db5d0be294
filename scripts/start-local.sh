#!/usr/bin/env bash
# Starts the whole coordinator locally: installs if needed, builds, creates and migrates the
# database, seeds a demo client and user, starts identity, api and worker, prints the URLs.
# Needs PostgreSQL and Redis at the addresses in DATABASE_URL / REDIS_URL (defaults: 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_DIR=.tmp/logs
CLI="node dist/apps/cli/apps/cli/src/main.js"
mkdir -p "$LOG_DIR"

if [ ! -d node_modules ]; then
  echo "installing dependencies (npm ci)…"
  npm ci --no-audit --no-fund >"$LOG_DIR/npm-ci.log" 2>&1 || { echo "npm ci failed; see $LOG_DIR/npm-ci.log"; exit 1; }
fi

echo "building…"
npm run --silent build >"$LOG_DIR/build.log" 2>&1 || { echo "build failed; see $LOG_DIR/build.log"; exit 1; }

$CLI check-services || exit 1
$CLI create-database
node node_modules/typeorm/cli.js -d dist/apps/cli/libs/database/src/data-source.js migration:run >"$LOG_DIR/migrate.log" 2>&1 \
  || { echo "migrations failed; see $LOG_DIR/migrate.log"; exit 1; }
echo "database migrated"
DEMO=$($CLI seed-demo)

pids=()
cleanup() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo; echo "stopping…"
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap cleanup INT TERM EXIT

for app in identity api worker; do
  node "dist/apps/$app/apps/$app/src/main.js" >"$LOG_DIR/$app.log" 2>&1 &
  pids+=($!)
done

wait_ready() {
  local name=$1 url=$2
  for _ in $(seq 1 120); do
    if node -e "fetch('$url').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"; then return 0; fi
    for pid in "${pids[@]}"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "$name did not start:"; tail -n 5 "$LOG_DIR/$name.log"; exit 1
      fi
    done
    sleep 0.5
  done
  echo "$name did not become ready within 60 s; see $LOG_DIR/$name.log"; exit 1
}

eval "$($CLI print-urls)"
wait_ready identity "$IDENTITY_URL/health/ready"
wait_ready api "$API_URL/health/ready"
wait_ready worker "$WORKER_URL/health/ready"

cat <<INFO

SLO Coordinator is running (logs in $LOG_DIR/, Ctrl-C stops everything)

  identity   $IDENTITY_URL          discovery: $IDENTITY_URL/.well-known/openid-configuration
  api        $API_URL          OpenAPI UI: $API_URL/docs   queues: $API_URL/admin/queues (operator credentials)
  worker     $WORKER_URL/health/ready   metrics: $API_URL/metrics, $WORKER_URL/metrics

$DEMO
operator:    client_id=$ADMIN_CLIENT_ID (secret: BOOTSTRAP_ADMIN_CLIENT_SECRET, local default "$ADMIN_CLIENT_SECRET")

  server token: curl -u $ADMIN_CLIENT_ID:$ADMIN_CLIENT_SECRET -d grant_type=client_credentials -d scope=admin $IDENTITY_URL/token
  sign in:      $IDENTITY_URL/auth?client_id=demo-app&response_type=code&scope=openid%20email&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256
INFO

wait -n "${pids[@]}" || true
echo "an app stopped; see $LOG_DIR/"
