// Notices of an incident as the person sees them: the privacy officer's automation reads a
// customer, an incident is opened and notices prepared for everyone the key reached; the customer
// finds the notice on My data, in the page's language. Checked by axe and at 390 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startDemo, launchBrowser, signIn, violations, overflow } from './harness.mjs';

let demo, browser, key, keyId;
before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
  for (let i = 0; i < 100 && !/privacy_ops role/.test(demo.output()); i++) await new Promise((r) => setTimeout(r, 50));
  key = demo.output().match(/API key \(privacy_ops role\):\s+(\S+)/)[1];
  const listed = execFileSync(demo.bin, ['--data', demo.data, 'apikey', 'list'], { encoding: 'utf8' });
  keyId = listed.split('\n').map((l) => l.split('\t')).find((f) => f[1] === 'privacy_ops')[0];
});
after(async () => { await browser?.close(); demo?.stop(); });

async function api(method, path, body) {
  const r = await fetch(`${demo.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'mamori-purpose': 'data_subject_rights', 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

const words = {
  en: { heading: 'Security incidents that concerned you', subject: 'a security incident concerning your data' },
  ja: { heading: 'お客様に関わるセキュリティ事故', subject: 'お客様のデータに関するセキュリティ事故のお知らせ' },
  fr: { heading: 'Incidents de sécurité qui vous ont concerné', subject: 'un incident de sécurité concernant vos données' },
};
const customers = { en: 13, ja: 14, fr: 15 };

for (const [lang, w] of Object.entries(words)) {
  test(`an incident's notice is shown on My data, in ${lang}`, async () => {
    const email = `customer${customers[lang]}@example.com`;
    const from = new Date(Date.now() - 60_000).toISOString();
    const found = await api('GET', `/v1/subjects?email=${encodeURIComponent(email)}`);
    assert.equal((await api('GET', `/v1/subjects/${found.body.ids[0]}`)).status, 200);
    const incident = await api('POST', '/v1/incidents', { title: `Key leaked (${lang})`, kind: 'leaked_credential', severity: 'high' });
    assert.equal(incident.status, 201);
    const to = new Date(Date.now() + 60_000).toISOString();
    const notices = await api('POST', `/v1/incidents/${incident.body.id}/notices`, { scope: { actors: [`key:${keyId}`], from, to } });
    assert.equal(notices.status, 200, JSON.stringify(notices.body));
    assert.ok(notices.body.people >= 1);

    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await signIn(page, demo.base, email, lang);
    assert.equal((await page.textContent('#incident-notices-title')).trim(), w.heading);
    assert.ok((await page.textContent('#incident-notices h3')).includes(w.subject));
    const problems = (await violations(page)).map((v) => `my data: ${v}`);
    await page.setViewportSize({ width: 390, height: 844 });
    const extra = await overflow(page);
    if (extra > 1) problems.push(`my data: ${extra} px wider than a 390 px phone`);
    assert.deepEqual(problems, [], problems.join('\n'));
    await context.close();
  });
}
