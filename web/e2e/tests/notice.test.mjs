// The privacy notice generated from the policy: short and full, en/ja/fr, HTML/Markdown/JSON.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, launchBrowser, artifacts } from './harness.mjs';

let demo, browser;
before(async () => { demo = await startDemo(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); demo?.stop(); });

const titles = { en: 'Privacy notice', ja: 'プライバシー通知', fr: 'Avis de confidentialité' };
// The demo publishes its policy on start, so the notice names that version.
const versions = { en: /^Version v1, published \d{4}-\d{2}-\d{2}$/, ja: /^バージョン v1（\d{4}-\d{2}-\d{2} 公開）$/, fr: /^Version v1, publiée le \d{4}-\d{2}-\d{2}$/ };

for (const [lang, title] of Object.entries(titles)) {
  for (const kind of ['short', 'full']) {
    test(`${kind} notice in ${lang}`, async () => {
      const page = await browser.newPage();
      const external = [];
      page.on('request', (r) => { if (!r.url().startsWith(demo.base)) external.push(r.url()); });
      const response = await page.goto(`${demo.base}/privacy/notice?lang=${lang}&kind=${kind}`);
      assert.equal(response.status(), 200);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      assert.match(await page.textContent('h1'), new RegExp(title));
      assert.match(await page.textContent('#version'), versions[lang]);
      assert.equal(await page.locator('main section').count(), 6);
      assert.equal(await page.locator('link[rel=alternate][hreflang]').count(), 3);
      assert.deepEqual(external, []);
      await page.screenshot({ path: join(artifacts, `notice-${kind}-${lang}.png`), fullPage: true });
      await page.close();
    });
  }
}

test('the notice is also Markdown and JSON, and the full one says more', async () => {
  const md = await fetch(`${demo.base}/privacy/notice?lang=fr&format=md`);
  assert.match(md.headers.get('content-type'), /text\/markdown/);
  assert.match(await md.text(), /^# Avis de confidentialité/);
  const short = await (await fetch(`${demo.base}/privacy/notice?format=json`)).json();
  const full = await (await fetch(`${demo.base}/privacy/notice?format=json&kind=full`)).json();
  assert.equal(short.kind, 'short');
  assert.deepEqual(short.sections.map((s) => s.id), ['collect', 'why', 'kept', 'share', 'choices', 'contact']);
  assert.ok(JSON.stringify(full).length > JSON.stringify(short).length);
  const bad = await fetch(`${demo.base}/privacy/notice?format=pdf`);
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).code, 'invalid_query');
});

test('the privacy center links to both notices, in its own language', async () => {
  const page = await browser.newPage();
  await page.goto(`${demo.base}/privacy?lang=ja`);
  await page.click('#notice a[href*="kind=full"]');
  await page.waitForURL(/\/privacy\/notice\?lang=ja&kind=full/);
  assert.match(await page.textContent('h1'), /プライバシー通知/);
  await page.close();
});
