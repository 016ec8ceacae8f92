// A consent receipt checked by an independent JOSE implementation (`jose`), with nothing but the
// public key the ledger publishes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactVerify, importJWK, decodeProtectedHeader, createLocalJWKSet } from 'jose';
import { startDemo } from './harness.mjs';

test('consent receipts verify with a standard JOSE library', async () => {
  const demo = await startDemo();
  try {
    const key = demo.output().match(/service role\):\s+(\S+)/)[1];
    const auth = { authorization: `Bearer ${key}` };
    const lookup = await fetch(`${demo.base}/v1/subjects?email=customer1@example.com`,
      { headers: { ...auth, 'mamori-purpose': 'order_fulfilment' } });
    const [id] = (await lookup.json()).ids;
    const changed = await fetch(`${demo.base}/v1/consent/${id}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ purpose: 'marketing_email', channel: 'email', granted: true, source: 'portal' }),
    });
    assert.equal(changed.status, 200);
    const { receipt } = await changed.json();

    const head = await (await fetch(`${demo.base}/v1/ledger/head`, { headers: auth })).json();
    const x = Buffer.from(head.public_key, 'hex').toString('base64url');
    const publicKey = await importJWK({ kty: 'OKP', crv: 'Ed25519', x }, 'EdDSA');
    const { payload, protectedHeader } = await compactVerify(receipt, publicKey);
    assert.equal(protectedHeader.alg, 'EdDSA');
    // The kid names the key in the JWK Set the ledger publishes (an RFC 7638 thumbprint);
    // jose picks the key from the set by it.
    assert.equal(decodeProtectedHeader(receipt).kid, head.key_id);
    const set = await (await fetch(`${demo.base}/v1/ledger/keys`, { headers: auth })).json();
    assert.equal(set.keys.find((k) => k.kid === head.key_id).x, x);
    await compactVerify(receipt, createLocalJWKSet(set));
    const body = JSON.parse(new TextDecoder().decode(payload));
    assert.equal(body.version, 'KI-CR-v1.1.0');
    assert.equal(body.piiPrincipalId, id);
    assert.equal(body.services[0].service, 'marketing_email');
    assert.equal(body.granted, true);

    // One changed character and the standard library refuses it.
    const [h, p, s] = receipt.split('.');
    const forged = Buffer.from(JSON.stringify({ ...body, granted: false })).toString('base64url');
    await assert.rejects(compactVerify(`${h}.${forged}.${s}`, publicKey));
    assert.notEqual(p, forged);
  } finally {
    demo.stop();
  }
});
