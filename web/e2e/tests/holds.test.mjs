// Legal holds as the person sees them: My data says what a hold keeps, why and until when, in
// en/ja/fr; asking to delete the account while held registers a request that waits (the account
// stays); lifting the hold erases it. Every page involved is checked by axe and at 390 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, launchBrowser, artifacts, signIn, violations, overflow } from './harness.mjs';

let demo, browser, key;
before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
  for (let i = 0; i < 100 && !/privacy_ops role/.test(demo.output()); i++) await new Promise((r) => setTimeout(r, 50));
  key = demo.output().match(/API key \(privacy_ops role\):\s+(\S+)/)[1];
});
after(async () => { await browser?.close(); demo?.stop(); });

async function api(method, path, body) {
  const r = await fetch(`${demo.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'mamori-purpose': 'data_subject_rights', 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  return { status: r.status, body: r.status === 204 ? null : await r.json() };
}

const words = {
  en: { line: 'All your data: kept because of a legal hold (a tax audit) until 2031-01-31.', registered: 'Your request is registered', waits: 'waits for the legal hold to end' },
  ja: { line: 'お客様のすべてのデータ：法的保全（税務調査）のため、2031-01-31まで保存します。', registered: 'ご請求を受け付けました', waits: '法的保全の終了を待っています' },
  fr: { line: 'Toutes vos données\u202f: conservation imposée par un gel juridique (un contrôle fiscal) jusqu\'au 2031-01-31.', registered: 'Votre demande est enregistrée', waits: 'attend la fin du gel juridique' },
};
const customers = { en: 7, ja: 8, fr: 9 };

/** axe and the 390 px phone on the page now open. */
async function checked(page, label) {
  const problems = (await violations(page)).map((v) => `${label}: ${v}`);
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const small = await phone.newPage();
  await small.setContent(await page.content());
  const extra = await overflow(small);
  if (extra > 1) problems.push(`${label}: ${extra} px wider than a 390 px phone`);
  await phone.close();
  return problems;
}

for (const [lang, w] of Object.entries(words)) {
  test(`a legal hold is shown and keeps an erasure waiting, in ${lang}`, async () => {
    const email = `customer${customers[lang]}@example.com`;
    const found = await api('GET', `/v1/subjects?email=${encodeURIComponent(email)}`);
    const subject = found.body.ids[0];
    const hold = await api('POST', '/v1/holds', { subject, reason: 'tax_audit', until: '2031-01-31T00:00:00Z' });
    assert.equal(hold.status, 201);

    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await signIn(page, demo.base, email, lang);
    assert.equal((await page.textContent('#legal-holds li')).trim(), w.line);
    const problems = await checked(page, 'my data');
    await page.click('#delete-link a');
    await page.waitForURL(/\/privacy\/me\/delete/);
    assert.ok(await page.isVisible('#if-confirmed'));
    problems.push(...await checked(page, 'delete'));
    await page.check('#confirm');
    await page.click('#delete');
    await page.waitForSelector('#reference');
    assert.equal(await page.textContent('h1'), w.registered);
    assert.match(await page.textContent('#status'), new RegExp(w.waits));
    problems.push(...await checked(page, 'waiting'));
    await page.screenshot({ path: join(artifacts, `hold-waiting-${lang}.png`), fullPage: true });
    // Still signed in, the account still there: My data says the request waits.
    await page.goto(`${demo.base}/privacy/me?lang=${lang}`);
    assert.match(await page.textContent('#waiting-erasure'), new RegExp(w.waits));
    assert.deepEqual(problems, [], problems.join('\n'));

    // Lifting the hold carries the erasure out: the session ends with the account.
    assert.equal((await api('DELETE', `/v1/holds/${hold.body.id}`)).status, 204);
    await page.goto(`${demo.base}/privacy/me?lang=${lang}`);
    assert.match(page.url(), /\/privacy\/sign-in/);
    await context.close();
  });
}
