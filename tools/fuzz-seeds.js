// Seeds for the fuzzers, made from the project's own FIDO files (nothing is fetched):
// the WebAuthn vectors as whole JSON (mode byte 0) and as their CBOR attestation objects
// (mode byte 1), a few entries of the shipped metadata BLOB's payload, and the BLOB's header
// with a truncated body. `node tools/fuzz-seeds.js OUT_DIR`
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const out = process.argv[2];
const repo = path.resolve(__dirname, '..');
const put = (target, name, bytes) => {
  const dir = path.join(out, target);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name), bytes);
};
const b64url = (s) => Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');

const vectors = path.join(repo, 'fido/vectors');
for (const file of fs.readdirSync(vectors).filter((f) => f.endsWith('.json'))) {
  const doc = JSON.parse(fs.readFileSync(path.join(vectors, file), 'utf8'));
  const credential = doc.credential ?? doc;
  put('attestation', `${file}.json`, Buffer.concat([Buffer.from([0]), Buffer.from(JSON.stringify(credential))]));
  const object = credential?.response?.attestationObject;
  if (typeof object === 'string') {
    put('attestation', `${file}.cbor`, Buffer.concat([Buffer.from([1]), b64url(object)]));
  }
}

const blob = fs.readFileSync(path.join(repo, 'fido/mds/blob.jwt'), 'utf8').trim();
const [header, payload] = blob.split('.');
const parsed = JSON.parse(b64url(payload).toString('utf8'));
for (const [i, n] of [[0, 1], [1, 4]]) {
  const small = { ...parsed, entries: parsed.entries.slice(i * 4, i * 4 + n) };
  put('mds_blob', `payload-${n}.json`, Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify(small))]));
}
put('mds_blob', 'jws-header.txt', Buffer.concat([Buffer.from([0]), Buffer.from(`${header}.e30.AAAA`)]));
