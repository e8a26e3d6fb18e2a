#!/usr/bin/env bash
# A walk through AlertHub's REST API with curl: health, submit, read back,
# events, idempotent retries, a batch, paging, the errors you will meet, and
# a delivery to a webhook receiver on this machine.
# Each step prints the command it runs (the key shown as $KEY) and the answer,
# and checks the HTTP status, so docs can quote it and the test command can
# run it.
#
#   tools/run.sh --allow_private_networks      # the daemon, in another terminal
#   examples/curl/walkthrough.sh               # http://localhost:8080, ./alerthub-data key
#   ALERTHUB_URL=http://host:8080 ALERTHUB_API_KEY=ahk_... examples/curl/walkthrough.sh
#
# Needs bash, curl and sed, and python3 for the webhook receiver
# (examples/webhooks/receiver.py); the daemon must allow deliveries to
# loopback (--allow_private_networks) for the last part. The realtime stream is a WebSocket
# (GET /api/v1/ws, docs/api.md); follow it with
#   python3 -m websockets "ws://localhost:8080/api/v1/ws?api_key=$KEY"
set -euo pipefail

URL=${ALERTHUB_URL:-http://localhost:8080}
KEY=${ALERTHUB_API_KEY:-}
if [ -z "$KEY" ] && [ -r alerthub-data/bootstrap-api-key ]; then
  KEY=$(cat alerthub-data/bootstrap-api-key)
fi
if [ -z "$KEY" ]; then
  echo "walkthrough: set ALERTHUB_API_KEY (or run from the directory holding alerthub-data/)" >&2
  exit 2
fi

body=$(mktemp)
receiver_log=$(mktemp)
receiver_pid=""
cleanup() {
  [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null
  rm -f "$body" "$receiver_log"
}
trap cleanup EXIT
# A suffix that keeps this run's keys and types apart from earlier runs.
run_id=$(date +%s%N)

# shell_quote ARG: ARG as a reader would type it; "$KEY" stays expandable.
shell_quote() {
  local a=$1
  if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
    printf '%s' "$a"
  elif [[ $a == *'$KEY'* ]]; then
    printf '"%s"' "$a"
  else
    printf "'%s'" "${a//\'/\'\\\'\'}"
  fi
}

# step TITLE EXPECTED_STATUS CURL_ARGS...: prints and runs one curl command,
# leaves the answer in $body and fails the walkthrough on another status.
step() {
  local title=$1 want=$2
  shift 2
  local arg got
  printf '\n# %s\n$ curl -sS' "$title"
  for arg in "$@"; do
    printf ' '
    shell_quote "${arg//$KEY/\$KEY}"
  done
  printf '\n'
  got=$(curl -sS -o "$body" -w '%{http_code}' "$@")
  cat "$body"
  printf '\n'
  if [ "$got" != "$want" ]; then
    echo "walkthrough: expected HTTP $want, got $got" >&2
    exit 1
  fi
}

# json_string NAME: the first "NAME":"value" of the last answer.
json_string() {
  sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$body" | head -n 1
}

printf '# AlertHub at %s; $KEY holds the tenant API key\n' "$URL"

auth=(-H "X-API-Key: $KEY")
json=(-H "Content-Type: application/json")

step "Is it ready? (no key needed)" 200 "$URL/health/ready"

step "Submit a notification: 202 means it is durable" 202 \
  "$URL/api/v1/notifications" "${auth[@]}" "${json[@]}" \
  -d '{"type": "deploy.finished", "title": "checkout v2.3.1 is live", "priority": "high", "tags": {"env": "prod"}, "data": {"hosts": 12}}'
id=$(json_string id)

step "Read it back" 200 "$URL/api/v1/notifications/$id" "${auth[@]}"

step "Its history, as CloudEvents" 200 "$URL/api/v1/notifications/$id/events" "${auth[@]}"

step "Submit with an Idempotency-Key..." 202 \
  "$URL/api/v1/notifications" "${auth[@]}" "${json[@]}" -H "Idempotency-Key: payment-$run_id" \
  -d '{"type": "payment.failed", "title": "card declined", "recipients": ["user-42"]}'
first=$(json_string id)
step "...and retry it: 200, the original id, \"duplicate\": true" 200 \
  "$URL/api/v1/notifications" "${auth[@]}" "${json[@]}" -H "Idempotency-Key: payment-$run_id" \
  -d '{"type": "payment.failed", "title": "card declined", "recipients": ["user-42"]}'
[ "$(json_string id)" = "$first" ] || { echo "walkthrough: the retry got another id" >&2; exit 1; }

step "A batch: one result per item; the bad one does not sink the others" 200 \
  "$URL/api/v1/notifications/batch" "${auth[@]}" "${json[@]}" \
  -d '{"notifications": [{"type": "disk.almost_full", "title": "db1 at 91%", "tags": {"host": "db1"}}, {"type": "Disk Full!"}, {"type": "disk.almost_full", "title": "db2 at 93%", "tags": {"host": "db2"}}]}'

step "List, newest first, two per page" 200 "$URL/api/v1/notifications?limit=2" "${auth[@]}"
cursor=$(json_string next_cursor)
step "The next page: pass next_cursor back" 200 \
  "$URL/api/v1/notifications?limit=2&cursor=$cursor" "${auth[@]}"

step "Filter by type and status" 200 \
  "$URL/api/v1/notifications?type=deploy.finished&status=accepted&limit=1" "${auth[@]}"

step "A mistake gets every broken rule, by field (422, problem+json)" 422 \
  "$URL/api/v1/notifications" "${auth[@]}" "${json[@]}" -d '{"type": "Deploy!", "titel": "x"}'

step "An unknown id is 404 (so is another tenant's)" 404 \
  "$URL/api/v1/notifications/01890a5d-ac96-774b-bcce-b302099a8057" "${auth[@]}"

step "No key is 401" 401 "$URL/api/v1/notifications"

# Deliveries: a webhook integration and a receiver that checks signatures.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
step "Create a webhook integration that receives every notification; its secret is shown once" 201 \
  "$URL/api/v1/integrations" "${auth[@]}" "${json[@]}" \
  -d "{\"name\": \"walkthrough receiver\", \"channel\": \"webhook\", \"default\": true, \"config\": {\"url\": \"http://127.0.0.1:$port/\"}}"
integration=$(json_string id)
secret=$(json_string secret)
printf '\n# Start the receiver with that secret\n$ examples/webhooks/receiver.py --port %s --secret %s &\n' \
  "$port" "'$secret'"
python3 "$(dirname "$0")/../webhooks/receiver.py" --port "$port" --secret "$secret" \
  >"$receiver_log" 2>&1 &
receiver_pid=$!
for _ in $(seq 1 100); do
  grep -q "receiving webhooks" "$receiver_log" && break
  sleep 0.1
done
cat "$receiver_log"

step "Submit: AlertHub routes it to the integration and delivers it" 202 \
  "$URL/api/v1/notifications" "${auth[@]}" "${json[@]}" \
  -d '{"type": "deploy.finished", "title": "checkout v2.3.2 is live", "priority": "high"}'
delivered=$(json_string id)
status=""
for _ in $(seq 1 200); do
  status=$(curl -sS "$URL/api/v1/notifications/$delivered" "${auth[@]}" |
           sed -n 's/.*"status":"\([a-z_]*\)".*/\1/p')
  case "$status" in delivered|failed|partially_delivered|suppressed) break ;; esac
  sleep 0.1
done
step "Read it back: delivered" 200 "$URL/api/v1/notifications/$delivered" "${auth[@]}"
if [ "$status" != "delivered" ]; then
  echo "walkthrough: status $status, not delivered (does the daemon run with --allow_private_networks?)" >&2
  exit 1
fi
printf '\n# The receiver printed:\n'
cat "$receiver_log"
grep -q "signature=valid: checkout v2.3.2 is live" "$receiver_log" ||
  { echo "walkthrough: the receiver did not get a valid signature" >&2; exit 1; }
step "Its events: accepted, routed, the delivery attempt, delivered" 200 \
  "$URL/api/v1/notifications/$delivered/events" "${auth[@]}"

step "Remove the integration" 204 -X DELETE "$URL/api/v1/integrations/$integration" "${auth[@]}"

printf '\nwalkthrough: every step answered as expected\n'
