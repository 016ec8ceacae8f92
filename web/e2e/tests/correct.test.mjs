// "Correct my data": a field saved at once, a bad value refused, a new e-mail address confirmed
// by the code sent to it, in every language; one run by keyboard alone. A demo of its own, so
// the sign-ins of the other files do not count against this one's per-address limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, launchBrowser, artifacts, codeFor, signIn } from './harness.mjs';

let demo, browser;
before(async () => { demo = await startDemo(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); demo?.stop(); });



const correctWords = {
  en: { title: 'Correct my data', saved: 'recorded the correction', sent: 'sent a 6-digit code', confirmed: 'Confirmed and saved', invalid: 'does not fit' },
  ja: { title: 'データの訂正', saved: '訂正を記録しました', sent: '6桁のコードを送信しました', confirmed: '確認して保存しました', invalid: '合わない値' },
  fr: { title: 'Corriger mes données', saved: 'consigné la correction', sent: 'envoyé un code à 6 chiffres', confirmed: 'Confirmé et enregistré', invalid: 'ne convient pas' },
};
const correctCustomers = { en: 14, ja: 15, fr: 16 };

for (const [lang, w] of Object.entries(correctWords)) {
  test(`correct my data, and confirm a new e-mail address by code, in ${lang}`, async () => {
    const page = await browser.newPage();
    await signIn(page, demo.base, `customer${correctCustomers[lang]}@example.com`, lang);
    await page.click('#correct-link a');
    await page.waitForURL(/\/privacy\/me\/correct/);
    assert.match(await page.textContent('h1'), new RegExp(w.title));
    await page.fill('#address-city', 'Nantes');
    await page.click('#save-address-city');
    assert.match(await page.textContent('#status'), new RegExp(w.saved));
    assert.equal(await page.inputValue('#address-city'), 'Nantes');
    await page.fill('#address-country', 'Atlantis');
    await page.click('#save-address-country');
    assert.match(await page.textContent('#error'), new RegExp(w.invalid));
    assert.equal(await page.getAttribute('#address-country', 'aria-invalid'), 'true');
    await page.screenshot({ path: join(artifacts, `correct-${lang}.png`), fullPage: true });

    const fresh = `new.${lang}@example.com`;
    await page.fill('#contact-email', fresh);
    await page.click('#save-contact-email');
    assert.match(await page.textContent('#verify'), new RegExp(w.sent));
    await page.screenshot({ path: join(artifacts, `correct-verify-${lang}.png`), fullPage: true });
    await page.fill('#code', await codeFor(demo.base, fresh));
    await page.click('#confirm');
    assert.match(await page.textContent('#status'), new RegExp(w.confirmed));
    assert.equal(await page.inputValue('#contact-email'), fresh);
    await page.close();
  });
}

test('correcting data works by keyboard alone', async () => {
  const page = await browser.newPage();
  await signIn(page, demo.base, 'customer17@example.com', 'en');
  await page.goto(`${demo.base}/privacy/me/correct?lang=en`);
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.id === 'address-city');
  }
  assert.ok(reached, 'the city field is reachable with Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Kyoto');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#status');
  assert.equal(await page.inputValue('#address-city'), 'Kyoto');
  await page.close();
});
