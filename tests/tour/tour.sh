#!/usr/bin/env bash
# The README's tour: one claim from the seed story's article, taken from logging to confirmed.
# Every step checks the status it expects and stops the tour otherwise. Each run logs a new
# claim and creates no source, so it can run again and again on the same database.
set -euo pipefail

API=${CLAIMS_URL:-http://localhost:5080}
KEY=${CLAIMS_KEY:-$(cat "$(dirname "$0")/../../.local/dev-admin-key" 2>/dev/null || true)}
[ -n "$KEY" ] || { echo "Set CLAIMS_KEY to an editor's or admin's API key." >&2; exit 1; }
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "The tour needs $tool: apt-get install -y curl jq" >&2; exit 1; }
done
auth="X-Api-Key: $KEY"
json="Content-Type: application/json"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() { printf '\n== %s\n' "$*"; }
# call STATUS CURL-ARGUMENTS...: sends the request, prints its status line and the headers this
# tour talks about, and stops unless the status is STATUS. The body is left for `body`.
call() {
  local expected=$1; shift
  : >"$tmp/body" # curl writes no file for an answer without a body (a 304)
  curl -sS -D "$tmp/headers" -o "$tmp/body" "$@"
  tr -d '\r' <"$tmp/headers" | grep -iE '^(HTTP/|ETag|Location|Link|Retry-After|Idempotent-Replayed)' || true
  local status; status=$(awk 'NR == 1 { print $2 }' "$tmp/headers")
  [ "$status" = "$expected" ] || { echo "Expected $expected, got $status: $(cat "$tmp/body")" >&2; exit 1; }
}
body() { jq -rc "$1" "$tmp/body"; }
header() { tr -d '\r' <"$tmp/headers" | awk -v name="$1" 'tolower($0) ~ "^" tolower(name) ":" { sub(/^[^:]*: */, ""); print }'; }

step "Find the seed story's sources by name (no second copies)"
call 200 -G "$API/sources" --data-urlencode "q=Bermudez" -H "$auth"
bermudez=$(body '.items[] | select(.name == "Joseph S. Bermudez Jr.") | .id')
call 200 -G "$API/sources" --data-urlencode "q=Bennett" -H "$auth"
bennett=$(body '.items[] | select(.name == "Bruce W. Bennett") | .id')
echo "Bermudez: $bermudez, Bennett: $bennett"

step "Log a claim with the evidence it rests on, in one transaction, with an Idempotency-Key"
request='{"statement": "North Korea punishes the families of soldiers who defect abroad.",
  "language": "en", "tags": ["north-korea", "defectors", "families"], "firstReportedOn": "2024-10-23",
  "evidence": [{"sourceId": "'"$bermudez"'", "stance": "asserts", "quote": "a Nazi work camp or a Soviet gulag", "credibility": 3}]}'
idempotency_key="tour-$(date +%s)-$$"
call 201 -X POST "$API/claims" -H "$auth" -H "$json" -H "Idempotency-Key: \"$idempotency_key\"" -d "$request"
claim=$(body .id)
etag=$(header ETag)
body '{id, status, version}'

step "Retry it with the same key (a lost answer, say): the first answer comes back, nothing is logged twice"
call 201 -X POST "$API/claims" -H "$auth" -H "$json" -H "Idempotency-Key: \"$idempotency_key\"" -d "$request"
body '{id}'

step "Confirm it with the ETag of the claim: 409, confirming needs 'supports' evidence"
call 409 -X PUT "$API/claims/$claim/status" -H "$auth" -H "$json" -H "If-Match: $etag" \
  -d '{"status": "confirmed", "note": "Bermudez says so."}'
body '{status, title, detail}'

step "Add a second specialist's support"
call 201 -X POST "$API/claims/$claim/evidence" -H "$auth" -H "$json" -d '{"sourceId": "'"$bennett"'", "stance": "supports",
  "quote": "at least one member of any family operating overseas remain in Pyongyang as a hostage", "credibility": 3}'
body '{id, stance, source: .source.name}'

step "Read the status: its ETag changed with the evidence"
call 200 "$API/claims/$claim/status" -H "$auth"
etag=$(header ETag)
body '{status, evidenceCounts}'

step "Confirm it, sending that ETag in If-Match"
call 200 -X PUT "$API/claims/$claim/status" -H "$auth" -H "$json" -H "If-Match: $etag" \
  -d '{"status": "confirmed", "note": "Two North Korea specialists, Bermudez and Bennett, describe it independently."}'
etag=$(header ETag)
body '{status, note}'

step "Poll the status with If-None-Match: 304 without a body while nothing changed"
call 304 "$API/claims/$claim/status" -H "$auth" -H "If-None-Match: $etag"

step "The history, oldest first"
call 200 "$API/claims/$claim/history" -H "$auth"
body '[.items[] | {fromStatus, toStatus, changedBy}]'

step "Page through the story's claims, two at a time, following the Link header"
call 200 "$API/claims?tag=north-korea&limit=2" -H "$auth"
body '[.items[].statement]'
next=$(header Link | sed -E 's/^<([^>]*)>.*/\1/')
call 200 "$next" -H "$auth"
body '[.items[].statement]'

step "A wrong key: 401, with a problem that says what is needed"
call 401 "$API/claims/$claim/status" -H "X-Api-Key: clm_not-a-key"
body '{status, title, detail}'
