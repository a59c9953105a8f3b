#!/usr/bin/env bash
# Measures the same call load with SIPp and with `switchyard bench` against one running switch,
# so the harness can be checked against an independent load generator (issue 6).
# Usage: scripts/sipp-compare.sh [CPS] [SECONDS]   (defaults 500 CPS for 20 s, hold 0)
# Loopback only; everything it starts is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
CPS=${1:-500}; SECS=${2:-20}; CALLS=$((CPS * SECS))
BIN=./bin/switchyard; [ -x "$BIN" ] || make build >/dev/null
WORK=$(mktemp -d); TOKEN=compare-$(date +%s)
SIP=127.0.0.1:25060; HTTP=127.0.0.1:28080; ESL=127.0.0.1:28021; API=http://$HTTP
cleanup() { kill "${UAS:-}" "${SW:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
"$BIN" serve --data "$WORK/data" --sip "$SIP" --http "$HTTP" --esl "$ESL" --admin-token "$TOKEN" \
  --allow 127.0.0.0/8 --log-level warn --log-format json 2>"$WORK/switch.log" &
SW=$!
for _ in $(seq 100); do curl -sf "$API/healthz" >/dev/null && break; sleep 0.1; done
H="Authorization: Bearer $TOKEN"; J="Content-Type: application/json"
post() { curl -sf -H "$H" -H "$J" -d "$2" "$API$1" | sed -n 's/.*"id":\([0-9]*\).*/\1/p' | head -1; }
D=$(post /admin/domain/ '{"name":"acme.example","domain_prefix":"10001"}')
C=$(post /admin/domain/$D/customer/ '{"name":"load","client_prefix":"001"}')
post /admin/domain/$D/sip_account/ "{\"customer_id\":$C,\"username\":\"100\",\"password\":\"secret-100\"}" >/dev/null
{ echo SEQUENTIAL; for i in $(seq 1000 1199); do
    post /admin/domain/$D/sip_account/ "{\"customer_id\":$C,\"username\":\"$i\",\"password\":\"secret-$i\"}" >/dev/null
    echo "001*$i;secret-$i;acme.example;100"; done; } > "$WORK/callers.csv"
printf 'SEQUENTIAL\n001*100;secret-100;acme.example\n' > "$WORK/callee.csv"
sipp "$SIP" -sf bench/sipp/register.xml -inf "$WORK/callee.csv" -i 127.0.0.4 -p 25070 -bind_local -m 1 -timeout 10s -nostdin >/dev/null
sipp -sf bench/sipp/calls_uas.xml -i 127.0.0.4 -p 25070 -bind_local -m "$CALLS" -timeout $((SECS + 30))s -nostdin >/dev/null 2>&1 &
UAS=$!
sipp "$SIP" -sf bench/sipp/calls_uac.xml -inf "$WORK/callers.csv" -i 127.0.0.3 -bind_local -r "$CPS" -m "$CALLS" -l 5000 \
  -timeout $((SECS + 20))s -nostdin -trace_stat -stf "$WORK/uac.csv" >/dev/null 2>&1 || true
kill "$UAS" 2>/dev/null || true
echo "== SIPp ($CPS CPS target, $CALLS calls, hold 0)"
python3 - "$WORK/uac.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
g = lambda k: last[h.index(k)]
print(f"successful {g('SuccessfulCall(C)')}, failed {g('FailedCall(C)')}, call rate {float(g('CallRate(C)')):.1f}/s, "
      f"setup (ResponseTime1) mean {g('ResponseTime1(C)')}")
PY
echo "== switchyard bench ($CPS CPS target, $SECS s, hold 0)"
"$BIN" bench calls --target "$SIP" --admin "$API" --token "$TOKEN" --esl "$ESL" --rate "$CPS" --hold 0s \
  --duration "${SECS}s" --accounts 200 --progress off --out "$WORK/bench" 2>&1 | grep -E "^(scenario|calls|setup)"
