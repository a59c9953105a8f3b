#!/usr/bin/env bash
# Quickstart: configure a first tenant on a running switchyard through the admin API.
#
#   TOKEN=<operator token> ./scripts/quickstart.sh
#
# TOKEN is the operator token switchyard prints once on its first start (or the one you set with
# --admin-token / `switchyard token`). SWITCHYARD_URL is the admin API (default
# http://127.0.0.1:8080, the --http default).
#
# It creates, in this order:
#   1. the domain acme.example (domain prefix 10001, cross-domain dialling allowed)
#   2. an alias pbx.acme.example for it
#   3. a customer "Acme Main Office" with client prefix 001
#   4. SIP accounts 100 and 101 of that customer, with passwords
#   5. an ESL user "acme-ops" scoped to the domain
# then prints them back and shows the domain's audit trail.
#
# Every step stops the script on the first error and prints the API's problem document. Running it
# twice fails at step 1 with 409 Conflict: the domain already exists.
# Needs bash and curl; jq is used for pretty output when installed.
set -euo pipefail

: "${TOKEN:?set TOKEN to the operator token printed once on the first start of the switch}"
URL="${SWITCHYARD_URL:-http://127.0.0.1:8080}"
URL="${URL%/}"

# api METHOD PATH [JSON] - one admin API call. Prints the response body on success; on an HTTP
# error prints the status and the problem document to stderr and exits.
api() {
  local method=$1 path=$2 body=${3:-} out status
  local args=(-sS -X "$method" -H "Authorization: Bearer $TOKEN" -w '\n%{http_code}')
  if [[ -n $body ]]; then
    args+=(-H 'Content-Type: application/json' --data "$body")
  fi
  if ! out=$(curl "${args[@]}" "$URL$path"); then
    echo "quickstart: cannot reach the admin API at $URL ($method $path)" >&2
    exit 1
  fi
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  if [[ $status -lt 200 || $status -ge 300 ]]; then
    echo "quickstart: $method $path failed with HTTP $status:" >&2
    echo "$out" >&2
    exit 1
  fi
  printf '%s\n' "$out"
}

# id_of - the top-level "id" of the JSON object on stdin.
id_of() {
  if command -v jq >/dev/null 2>&1; then
    jq -er '.id'
  else
    sed -n 's/.*[{,]"id":\([0-9][0-9]*\).*/\1/p' | head -n 1
  fi
}

# show - pretty-print JSON on stdin when jq is available.
show() {
  if command -v jq >/dev/null 2>&1; then jq .; else cat; fi
}

echo "== checking the admin API at $URL"
api GET /healthz >/dev/null

echo "== 1. domain acme.example"
domain=$(api POST /admin/domain/ \
  '{"name":"acme.example","domain_prefix":"10001","allow_cross_domain_dialling":true}' | id_of)
echo "domain id $domain"

echo "== 2. alias pbx.acme.example"
api POST "/admin/domain/$domain/alias/" '{"name":"pbx.acme.example","comment":"quickstart"}' >/dev/null

echo "== 3. customer with client prefix 001"
customer=$(api POST "/admin/domain/$domain/customer/" '{"name":"Acme Main Office","client_prefix":"001"}' | id_of)
echo "customer id $customer"

echo "== 4. SIP accounts 100 and 101"
api POST "/admin/domain/$domain/sip_account/" \
  "{\"customer_id\":$customer,\"username\":\"100\",\"password\":\"change-me-100\",\"caller_id_name\":\"Reception\"}" >/dev/null
api POST "/admin/domain/$domain/sip_account/" \
  "{\"customer_id\":$customer,\"username\":\"101\",\"password\":\"change-me-101\",\"caller_id_name\":\"Sales\"}" >/dev/null

echo "== 5. ESL user acme-ops"
api POST "/admin/domain/$domain/esl_user/" '{"username":"acme-ops","password":"change-me-esl"}' >/dev/null

echo "== the domain"
api GET "/admin/domain/$domain" | show
echo "== its aliases"
api GET "/admin/domain/$domain/alias/" | show
echo "== its customers"
api GET "/admin/domain/$domain/customer/" | show
echo "== its SIP accounts (passwords are write-only and never shown)"
api GET "/admin/domain/$domain/sip_account/" | show
echo "== its ESL users"
api GET "/admin/domain/$domain/esl_user/" | show
echo "== audit trail of the domain"
api GET "/admin/audit?domain_id=$domain" | show

cat <<EOF
== done
SIP phones register as 100@acme.example / change-me-100 and 101@acme.example / change-me-101.
ESL clients log in with: userauth acme-ops@acme.example:change-me-esl
EOF
