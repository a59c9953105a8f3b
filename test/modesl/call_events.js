// Watches a real call through Switchyard with the real modesl client and drives call control.
// Usage: node call_events.js <host> <port> <password> <user-endpoint> <max-seconds>
// It subscribes to all events (plain), waits for "go" on stdin (the test then places a SIPp
// call), collects the channel events of that call until every leg is destroyed, then
// originates a call to <user-endpoint> with &park(), kills it with uuid_kill, and prints one
// JSON object: {"call": [events...], "originate": {...}, "ok": bool, "error": "..."}.
'use strict';
const esl = require('modesl');

const [host, port, password, endpoint, maxSeconds] = process.argv.slice(2);
const out = { call: [], originate: {}, ok: false, error: '' };
function finish(err) {
  if (err) out.error = String(err.message || err);
  out.ok = !out.error;
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}
setTimeout(() => finish(new Error('timeout')), Number(maxSeconds || 30) * 1000);

const keep = ['Event-Name', 'Event-Subclass', 'Unique-ID', 'Channel-Call-UUID', 'Call-Direction', 'Channel-State',
  'Channel-Call-State', 'Answer-State', 'Caller-Caller-ID-Number', 'Caller-Destination-Number', 'Other-Leg-Unique-ID',
  'Hangup-Cause', 'variable_sip_term_status', 'variable_billsec', 'variable_duration', 'variable_domain_name', 'Event-Sequence'];
const pick = (e) => { const o = {}; for (const k of keep) { const v = e.getHeader(k); if (v) o[k] = v; } return o; };
const api = (conn, cmd) => new Promise((resolve) => conn.api(cmd, (res) => resolve(res.getBody())));

const conn = new esl.Connection(host, Number(port), password, () => {
  conn.subscribe(['ALL'], () => {
    let created = 0; let destroyed = 0; let phase = 'wait';
    let resolveCall;
    const callDone = new Promise((r) => { resolveCall = r; });
    conn.on('esl::event::**', (e) => {
      const name = e.getHeader('Event-Name');
      if (phase !== 'call' || !name || !name.startsWith('CHANNEL_') && name !== 'CUSTOM') return;
      out.call.push(pick(e));
      if (name === 'CHANNEL_CREATE') created++;
      if (name === 'CHANNEL_DESTROY' && ++destroyed >= 2 && destroyed >= created) resolveCall();
    });
    process.stdout.write('ready\n');
    process.stdin.once('data', async () => {
      phase = 'call';
      await callDone;
      phase = 'originate';
      try {
        const answered = new Promise((r) => conn.once('esl::event::CHANNEL_ANSWER::*', (e) => r(e)));
        const res = await api(conn, 'originate {origination_caller_id_number=5551234}' + endpoint + ' &park()');
        out.originate.result = res;
        const uuid = res.replace(/^\+OK /, '').trim();
        const ans = await answered;
        out.originate.answered = ans.getHeader('Unique-ID') === uuid;
        out.originate.getvar = await api(conn, 'uuid_getvar ' + uuid + ' origination_caller_id_number');
        const hung = new Promise((r) => conn.once('esl::event::CHANNEL_HANGUP_COMPLETE::*', (e) => r(e)));
        out.originate.kill = await api(conn, 'uuid_kill ' + uuid);
        const hc = await hung;
        out.originate.hangupCause = hc.getHeader('Hangup-Cause');
        out.originate.exists = await api(conn, 'uuid_exists ' + uuid);
        conn.disconnect();
        finish();
      } catch (e) { finish(e); }
    });
  });
});
conn.on('error', (e) => finish(e));
