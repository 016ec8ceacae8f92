// Signing in without typing the code: the link in the e-mail fills it in (opening the link alone
// signs nobody in), in every language; and signing in with a phone number, the code arriving by
// text message. A demo of its own, so these sign-ins do not count against the other files'
// per-address limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, launchBrowser, artifacts, codeFor } from './harness.mjs';

let demo, browser;
before(async () => { demo = await startDemo(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); demo?.stop(); });

const words = { en: 'Sign in', ja: 'サインイン', fr: 'Se connecter' };
const customers = { en: 7, ja: 8, fr: 9 };

for (const [lang, button] of Object.entries(words)) {
  test(`sign in by the link in the e-mail, in ${lang}`, async () => {
    const page = await browser.newPage();
    const address = `customer${customers[lang]}@example.com`;
    await page.goto(`${demo.base}/privacy/sign-in?lang=${lang}`);
    await page.fill('#email', address);
    await page.click('button[type=submit]');
    await page.waitForSelector('#code');
    // The message in the demo outbox carries the link.
    await page.goto(`${demo.base}/privacy/demo/outbox`);
    const message = page.locator('article.message', { hasText: address }).first();
    const link = await message.locator('a.sign-in-link').getAttribute('href');
    assert.match(link, new RegExp(`^${demo.base}/privacy/sign-in/link\\?challenge=[0-9a-f-]{36}&code=\\d{6}&lang=${lang}$`));
    await page.goto(link);
    // Filled in, not yet signed in: one click does it.
    assert.match(await page.inputValue('#code'), /^\d{6}$/);
    assert.equal(await page.textContent('#sign-in'), button);
    await page.screenshot({ path: join(artifacts, `sign-in-link-${lang}.png`), fullPage: true });
    const cookies = await page.context().cookies();
    assert.ok(!cookies.some((c) => c.name === 'mamori_session'), 'opening the link alone signs nobody in');
    await page.click('#sign-in');
    await page.waitForURL(/\/privacy\/me/);
    await page.close();
  });
}

test('sign in with a phone number; the code comes by text message', async () => {
  const page = await browser.newPage();
  await page.goto(`${demo.base}/privacy/sign-in?lang=en`);
  await page.fill('#email', '+33 6 10 00 00 10');
  await page.click('button[type=submit]');
  await page.fill('#code', await codeFor(demo.base, '+33610000010'));
  await page.click('button[type=submit]');
  await page.waitForURL(/\/privacy\/me/);
  assert.match(await page.textContent('h1'), /My data/);
  await page.close();
});
