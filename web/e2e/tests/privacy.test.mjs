// The privacy center page, in every language, by mouse and by keyboard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, launchBrowser, artifacts } from './harness.mjs';

let demo, browser;
before(async () => { demo = await startDemo(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); demo?.stop(); });

const expected = {
  en: { h1: 'Privacy center', section: 'What we hold', purpose: 'Delivering your orders', basis: 'your consent' },
  ja: { h1: 'プライバシーセンター', section: '保有しているデータ', purpose: 'ご注文の配送', basis: 'ご本人の同意' },
  fr: { h1: 'Centre de confidentialité', section: 'Les données que nous détenons', purpose: 'Livraison de vos commandes', basis: 'votre consentement' },
};

for (const [lang, text] of Object.entries(expected)) {
  test(`privacy center in ${lang} is generated from the policy`, async () => {
    const page = await browser.newPage();
    const external = [];
    page.on('request', (r) => { if (!r.url().startsWith(demo.base)) external.push(r.url()); });
    const response = await page.goto(`${demo.base}/privacy?lang=${lang}`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'], /default-src 'none'/);
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    assert.match(await page.textContent('h1'), new RegExp(text.h1));
    assert.equal(await page.textContent('#what'), text.section);
    const body = await page.textContent('main');
    assert.ok(body.includes(text.purpose), `purpose label in ${lang}`);
    assert.ok(body.includes(text.basis), `legal basis in ${lang}`);
    assert.ok(body.includes('Kitsune Goods'));
    assert.equal(await page.locator('link[rel=alternate][hreflang]').count(), 3);
    assert.deepEqual(external, [], 'no third-party requests');
    await page.screenshot({ path: join(artifacts, `privacy-${lang}.png`), fullPage: true });
    await page.close();
  });
}

test('language links work by keyboard alone', async () => {
  const page = await browser.newPage();
  await page.goto(`${demo.base}/privacy?lang=en`);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('hreflang')), 'ja');
  await Promise.all([page.waitForURL(/lang=ja/), page.keyboard.press('Enter')]);
  assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  await page.close();
});

test('an unknown language falls back to the first declared one', async () => {
  const page = await browser.newPage();
  await page.goto(`${demo.base}/privacy?lang=xx`);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.close();
});

const gpcText = {
  en: 'Global Privacy Control',
  ja: 'グローバル・プライバシー・コントロール',
  fr: 'Global Privacy Control',
};

test('a browser sending Sec-GPC: 1 is told its opt-out is honoured, in each language', async () => {
  const context = await browser.newContext({ extraHTTPHeaders: { 'Sec-GPC': '1' } });
  for (const [lang, text] of Object.entries(gpcText)) {
    const page = await context.newPage();
    await page.goto(`${demo.base}/privacy?lang=${lang}`);
    const message = page.locator('#gpc');
    assert.equal(await message.getAttribute('role'), 'status');
    assert.ok((await message.textContent()).includes(text), `GPC message in ${lang}`);
    await page.screenshot({ path: join(artifacts, `privacy-gpc-${lang}.png`) });
    await page.close();
  }
  await context.close();
  const plain = await browser.newPage();
  await plain.goto(`${demo.base}/privacy?lang=en`);
  assert.equal(await plain.locator('#gpc').count(), 0, 'no GPC message without the signal');
  await plain.close();
});
