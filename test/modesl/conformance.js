// Switchyard ESL conformance run with the real modesl client (npm "modesl").
// Usage: node conformance.js <host> <port> <password>
// Prints one JSON object {"ok": bool, "checks": {name: {ok, detail}}} and exits 0 when it ran.
'use strict';
const esl = require('modesl');

const [host, port, password] = process.argv.slice(2);
const checks = {};
function check(name, ok, detail) { checks[name] = { ok: !!ok, detail: detail === undefined ? '' : String(detail) }; }
function finish(err) {
  if (err) check('no-error', false, err.message || err);
  const ok = Object.values(checks).every((c) => c.ok);
  process.stdout.write(JSON.stringify({ ok, checks }) + '\n');
  process.exit(0);
}
const timer = setTimeout(() => finish(new Error('timeout')), 20000);

const api = (conn, cmd) => new Promise((resolve) => conn.api(cmd, (res) => resolve(res)));
const bgapi = (conn, cmd, args, jobid) => new Promise((resolve) => conn.bgapi(cmd, args, jobid, (evt) => resolve(evt)));
const send = (conn, fn, ...args) => new Promise((resolve) => conn[fn](...args, (res) => resolve(res)));
const nextEvent = (conn, name) => new Promise((resolve) => conn.once('esl::event::' + name + '::*', (evt) => resolve(evt)));

async function run(conn) {
  const status = await api(conn, 'status');
  check('api-status', status.getBody().startsWith('UP ') && / is ready\n/.test(status.getBody()), status.getBody().slice(0, 40));
  const v = await api(conn, 'version');
  check('api-in-order', v.getBody().startsWith('FreeSWITCH Version'), v.getBody());
  const nope = await api(conn, 'nosuchcmd');
  check('api-unknown', nope.getBody() === '-ERR nosuchcmd Command not found!\n', nope.getBody());

  const job = await bgapi(conn, 'status', '', null);
  check('bgapi-status', job.getBody().startsWith('UP ') && job.getHeader('Job-Command') === 'status' && !job.getHeader('Job-Command-Arg'), job.getHeader('Job-Command'));
  const jid = '11111111-2222-3333-4444-555555555555';
  const job2 = await bgapi(conn, 'version', 'short', jid);
  check('bgapi-job-uuid', job2.getHeader('Job-UUID') === jid && job2.getBody() === '1.10.12\n', job2.getHeader('Job-UUID'));

  let r = await send(conn, 'events', 'plain', 'CHANNEL_CREATE');
  check('event-plain', r.getHeader('Reply-Text') === '+OK event listener enabled plain', r.getHeader('Reply-Text'));
  let created = nextEvent(conn, 'CHANNEL_CREATE');
  let orig = await api(conn, 'originate user/1001 &park()');
  let uuid = orig.getBody().replace(/^\+OK /, '').trim();
  let evt = await created;
  check('plain-event-unique-id', evt.getHeader('Unique-ID') === uuid, evt.getHeader('Unique-ID'));

  r = await send(conn, 'events', 'json', 'CHANNEL_CREATE');
  check('event-json', r.getHeader('Reply-Text') === '+OK event listener enabled json', r.getHeader('Reply-Text'));
  created = nextEvent(conn, 'CHANNEL_CREATE');
  orig = await api(conn, 'originate {origination_uuid=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}user/1002 &park()');
  evt = await created;
  check('json-event-unique-id', orig.getBody() === '+OK aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\n' && evt.getHeader('Unique-ID') === 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', evt.getHeader('Unique-ID'));

  r = await send(conn, 'filter', 'X-Tag', '100%');
  check('filter-percent', r.getHeader('Reply-Text') === '+OK filter added. [X-Tag]=[100%]', r.getHeader('Reply-Text'));
  r = await send(conn, 'filterDelete', 'X-Tag', '100%');
  check('filter-delete', r.getHeader('Reply-Text') === '+OK filter deleted. [X-Tag][100%]', r.getHeader('Reply-Text'));
  r = await send(conn, 'filter', 'Unique-ID', uuid);
  check('filter-add', r.getHeader('Reply-Text') === '+OK filter added. [Unique-ID]=[' + uuid + ']', r.getHeader('Reply-Text'));
  // With filters in use, modesl wraps bgapi in filter Job-UUID / filter delete Job-UUID.
  const job3 = await bgapi(conn, 'version', 'short', null);
  check('bgapi-with-filters', job3.getBody() === '1.10.12\n', job3.getBody());

  const shown = await new Promise((resolve) => conn.show('channels', 'json', (err, data) => resolve({ err, data })));
  check('show-channels-json', !shown.err && shown.data.row_count === 2 && Array.isArray(shown.data.rows), JSON.stringify(shown.data).slice(0, 80));

  const done = await new Promise((resolve) => conn.execute('set', 'foo=bar', uuid, (e) => resolve(e)));
  check('execute-complete', done.getHeader('Application') === 'set' && done.getHeader('Unique-ID') === uuid, done.getHeader('Application-UUID'));
  const fooVal = await api(conn, 'uuid_getvar ' + uuid + ' foo');
  check('execute-effect', fooVal.getBody() === 'bar', fooVal.getBody());
}

const conn = new esl.Connection(host, Number(port), password, () => {
  run(conn).then(() => { clearTimeout(timer); conn.disconnect(); finish(); }, (e) => { clearTimeout(timer); finish(e); });
});
conn.on('error', (e) => { clearTimeout(timer); finish(e); });
