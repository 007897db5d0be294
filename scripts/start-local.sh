#!/usr/bin/env bash
# Starts the whole coordinator locally: installs if needed, builds, creates and migrates the
# database, seeds a demo client and user, starts identity, api, worker and the demo client app
# (http://localhost:3000, the SPiD SDK demo page), prints the URLs.
# Needs PostgreSQL and Redis at the addresses in DATABASE_URL / REDIS_URL (defaults: 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_DIR=.tmp/logs
# The demo app receives back-channel logouts on localhost, which the address policy refuses unless allowed.
export BACKCHANNEL_ALLOWED_HOSTS="${BACKCHANNEL_ALLOWED_HOSTS:-localhost,127.0.0.1,::1}"
CLI="node dist/apps/cli/apps/cli/src/main.js"
mkdir -p "$LOG_DIR"

if [ ! -d node_modules ]; then
  echo "installing dependencies (npm ci)…"
  npm ci --no-audit --no-fund >"$LOG_DIR/npm-ci.log" 2>&1 || { echo "npm ci failed; see $LOG_DIR/npm-ci.log"; exit 1; }
fi

echo "building…"
{ npm run --silent build && npm run --silent build:demo; } >"$LOG_DIR/build.log" 2>&1 || { echo "build failed; see $LOG_DIR/build.log"; exit 1; }

$CLI check-services || exit 1
$CLI create-database
node node_modules/typeorm/cli.js -d dist/apps/cli/libs/database/src/data-source.js migration:run >"$LOG_DIR/migrate.log" 2>&1 \
  || { echo "migrations failed; see $LOG_DIR/migrate.log"; exit 1; }
echo "database migrated"
DEMO=$($CLI seed-demo)
DEMO_CLIENT_SECRET=$(printf '%s\n' "$DEMO" | sed -n 's/.*client_secret=\([^ ]*\).*/\1/p')

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
DEMO_CLIENT_SECRET="$DEMO_CLIENT_SECRET" node dist/apps/demo/main.js >"$LOG_DIR/demo.log" 2>&1 &
pids+=($!)

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
wait_ready demo "http://localhost:3000/me"

cat <<INFO

SLO Coordinator is running (logs in $LOG_DIR/, Ctrl-C stops everything)

  identity   $IDENTITY_URL          discovery: $IDENTITY_URL/.well-known/openid-configuration
  api        $API_URL          OpenAPI UI: $API_URL/docs   queues: $API_URL/admin/queues (operator credentials)
  worker     $WORKER_URL/health/ready   metrics: $API_URL/metrics, $WORKER_URL/metrics
  demo app   http://localhost:3000/          SPiD SDK demo: log in, watch the events, log out (SDK: $IDENTITY_URL/sdk/spid.js)

$DEMO
operator:    client_id=$ADMIN_CLIENT_ID (secret: BOOTSTRAP_ADMIN_CLIENT_SECRET, local default "$ADMIN_CLIENT_SECRET")

  server token: curl -u $ADMIN_CLIENT_ID:$ADMIN_CLIENT_SECRET -d grant_type=client_credentials -d scope=admin $IDENTITY_URL/token
  sign in:      open http://localhost:3000/ and press Log in (demo user above)
INFO

wait -n "${pids[@]}" || true
echo "an app stopped; see $LOG_DIR/"
