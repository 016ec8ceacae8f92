// Invitation-only surveys: the browser makes and blinds its one-response token (RFC 9474) from
// the invitation link, answers once, and cannot get a second token; the page explains itself in
// en/ja/fr, also without JavaScript. The browser's blinding is checked against the RFC's vector.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemo, launchBrowser, artifacts } from './harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let demo, browser;
after(async () => { await browser?.close(); demo?.stop(); });

const slug = 'panel';
const key = (role) => {
  const m = demo.output().match(new RegExp(`API key \\(${role} role\\):\\s+(\\S+)`));
  assert.ok(m, `the demo prints the ${role} key`);
  return m[1];
};
const api = async (method, path, role, purpose, body) => {
  const r = await fetch(`${demo.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key(role)}`, 'mamori-purpose': purpose, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  return { status: r.status, body: await r.json().catch(() => null) };
};
const t = (en, ja, fr) => ({ en, ja, fr });

let links = [];
before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
  // The demo's startup and first test may race for the keys; wait for both.
  for (let i = 0; i < 100 && !/service role/.test(demo.output()); i++) await new Promise((r) => setTimeout(r, 50));
  const created = await api('POST', '/v1/surveys', 'privacy_ops', 'data_subject_rights', {
    slug, mode: 'anonymous', access: 'invited',
    title: t('Customer panel', '顧客パネル', 'Panel de clients'),
    questions: [
      { id: 'trust', kind: 'rating', required: true, text: t('How much do you trust us?', 'どのくらい信頼していますか？', 'Quelle confiance nous accordez-vous ?') },
      { id: 'comment', kind: 'text', text: t('Anything else?', 'その他', 'Autre chose ?') },
    ],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const ids = [];
  for (const tag of ['one', 'two', 'three']) {
    const s = await api('POST', '/v1/subjects', 'service', 'order_fulfilment', {
      external_id: `panel-${tag}`, data: { contact: { name: `Panel ${tag}`, email: `panel.${tag}@example.com` } },
    });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    ids.push(s.body.id);
  }
  const invited = await api('POST', `/v1/surveys/${slug}/invitations`, 'privacy_ops', 'data_subject_rights', { subjects: ids });
  assert.equal(invited.status, 200);
  links = invited.body.invitations.map((i) => i.link);
  assert.ok(links.every((l) => /^\/survey\/panel#invitation=[A-Za-z0-9_-]+$/.test(l)), links.join(' '));
});

test("the browser's blinding matches RFC 9474's test vector (RSABSSA-SHA384-PSS-Randomized)", async () => {
  const vector = JSON.parse(readFileSync(join(root, 'crates', 'mamori-blind', 'tests', 'test_vectors_rfc9474.json'), 'utf8'))[0];
  assert.equal(vector.name, 'RSABSSA-SHA384-PSS-Randomized');
  const page = await browser.newPage();
  await page.goto(`${demo.base}/survey/${slug}`);
  await page.waitForFunction(() => window.MamoriBlind);
  const out = await page.evaluate(async (v) => {
    const { blindWith, finalize, toInt } = window.MamoriBlind;
    const hex = (s) => Uint8Array.from(s.replace(/^0x/, '').match(/../g), (b) => parseInt(b, 16));
    const big = (s) => BigInt(s.startsWith('0x') ? s : `0x${s}`);
    const n = big(v.n), e = big(v.e), inv = big(v.inv);
    // The vector gives r⁻¹; r is its inverse.
    const modInverse = (a, m) => {
      let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
      while (r1) { const q = r0 / r1; [r0, r1] = [r1, r0 - q * r1]; [s0, s1] = [s1, s0 - q * s1]; }
      return ((s0 % m) + m) % m;
    };
    const { blinded, inverse, encoded } = await blindWith(n, e, hex(v.input_msg), hex(v.salt), modInverse(inv, n));
    const sig = finalize(n, e, hex(v.blind_sig), inverse, encoded);
    const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return { blinded: toHex(blinded), inverse: inverse.toString(16), sig: toHex(sig), nonzero: toInt(blinded) > 0n };
  }, vector);
  assert.equal(out.blinded, vector.blinded_msg);
  assert.equal(out.inverse, vector.inv.replace(/^0x0*/, ''));
  assert.equal(out.sig, vector.sig);
  await page.close();
});

test('an invited customer answers once from the link; the token is made in the browser', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const external = [];
  const sent = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(demo.base)) external.push(r.url());
    sent.push(`${r.method()} ${r.url()} ${r.postData() || ''}`);
  });
  await page.goto(`${demo.base}${links[0]}`);
  await page.waitForFunction(() => document.documentElement.dataset.tokenReady === 'true');
  // The code has left the address bar, and was never sent in a URL.
  assert.equal(new URL(page.url()).hash, '');
  const code = links[0].split('#invitation=')[1];
  assert.ok(!sent.some((s) => s.split(' ')[1].includes(code)), 'the code travels only in a request body');
  assert.match(await page.textContent('#invited'), /one response each/);
  await page.screenshot({ path: join(artifacts, 'survey-invited-en.png'), fullPage: true });
  await page.check('input[name=a_trust][value="5"]');
  await Promise.all([page.waitForNavigation(), page.click('#survey button[type=submit]')]);
  assert.match(await page.textContent('h1'), /Thank you/);
  // The spent token is forgotten on this device.
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  // The same link again, in a fresh browser: the token was issued already.
  const again = await browser.newContext();
  const second = await again.newPage();
  await second.goto(`${demo.base}${links[0]}`);
  await second.waitForSelector('#token-problem:not([hidden])');
  assert.match(await second.textContent('#token-problem'), /issued already/);
  assert.equal(await second.isDisabled('#survey button[type=submit]'), true);
  assert.deepEqual(external, []);
  await again.close();
  await context.close();
});

test('a reload keeps the token until the answers are sent', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${demo.base}${links[1]}`);
  await page.waitForFunction(() => document.documentElement.dataset.tokenReady === 'true');
  await page.reload();
  await page.waitForFunction(() => document.documentElement.dataset.tokenReady === 'true');
  await page.check('input[name=a_trust][value="2"]');
  await Promise.all([page.waitForNavigation(), page.click('#survey button[type=submit]')]);
  assert.match(await page.textContent('h1'), /Thank you/);
  await context.close();
});

const words = {
  en: { invited: /one response each/, missing: /No invitation found/, script: /needs JavaScript/ },
  ja: { invited: /1回だけ回答/, missing: /招待リンクが見つかりません/, script: /JavaScript が必要/ },
  fr: { invited: /une réponse chacune/, missing: /Aucune invitation trouvée/, script: /besoin de JavaScript/ },
};
for (const [lang, w] of Object.entries(words)) {
  test(`without an invitation, or without JavaScript, the page says what to do (${lang})`, async () => {
    const page = await browser.newPage();
    await page.goto(`${demo.base}/survey/${slug}?lang=${lang}`);
    assert.match(await page.textContent('#invited'), w.invited);
    await page.waitForSelector('#token-problem:not([hidden])');
    assert.match(await page.textContent('#token-problem'), w.missing);
    assert.equal(await page.isDisabled('#survey button[type=submit]'), true);
    await page.close();
    const context = await browser.newContext({ javaScriptEnabled: false });
    const plain = await context.newPage();
    await plain.goto(`${demo.base}/survey/${slug}?lang=${lang}`);
    assert.match(await plain.textContent('#needs-script'), w.script);
    await plain.screenshot({ path: join(artifacts, `survey-invited-noscript-${lang}.png`), fullPage: true });
    // Sending the form anyway is refused in the page's language, and keeps nothing.
    await plain.check('input[name=a_trust][value="3"]');
    const [response] = await Promise.all([plain.waitForNavigation(), plain.click('#survey button[type=submit]')]);
    assert.equal(response.status(), 422);
    assert.equal(await plain.locator('#error').count(), 1);
    await context.close();
  });
}
