// "Delete my account": the page lists what goes and what the law keeps (why, until when); it
// asks for confirmation; then the account is erased, the person signed out, and the page says
// what was kept and gives a reference. Every language, and one run by keyboard alone. A demo of
// its own, since each run erases a customer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, launchBrowser, artifacts, signIn } from './harness.mjs';

let demo, browser;
before(async () => { demo = await startDemo(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); demo?.stop(); });

const words = {
  en: { title: 'Delete my account', kept: 'What the law requires us to keep', why: 'Keeping accounts as the law requires', done: 'Your account is deleted', period: ' (7 years)', years: 'for seven years' },
  ja: { title: 'アカウントの削除', kept: '法令により保存が必要なもの', why: '法令に基づく会計記録の保存', done: 'アカウントを削除しました', period: '（7年）', years: '7年間' },
  fr: { title: 'Supprimer mon compte', kept: 'Ce que la loi nous oblige à conserver', why: 'Tenue de la comptabilité imposée par la loi', done: 'Votre compte est supprimé', period: ' (7 ans)', years: 'pendant sept ans' },
};
const customers = { en: 3, ja: 4, fr: 5 };
const year = new Date().getUTCFullYear();

for (const [lang, w] of Object.entries(words)) {
  test(`delete my account, keeping what the law requires, in ${lang}`, async () => {
    const page = await browser.newPage();
    await signIn(page, demo.base, `customer${customers[lang]}@example.com`, lang);
    await page.click('#delete-link a');
    await page.waitForURL(/\/privacy\/me\/delete/);
    assert.equal(await page.textContent('h1'), w.title);
    // Support requests go at once; contact, address and orders are kept for tax law.
    assert.ok(await page.isVisible('#erased-support_tickets'));
    for (const kept of ['contact', 'address', 'orders']) assert.ok(await page.isVisible(`#kept-${kept}`), kept);
    assert.match(await page.textContent('#kept'), new RegExp(w.kept));
    assert.match(await page.textContent('#kept'), new RegExp(w.why));
    // The dates agree with the retention the page states ("for seven years"): seven calendar
    // years from today for everything kept, the period said beside each date.
    assert.match(await page.textContent('#kept'), new RegExp(w.years));
    const today = new Date().toISOString().slice(0, 10);
    for (const kept of ['contact', 'address', 'orders']) {
      assert.equal(await page.getAttribute(`#kept-${kept} + dd time`, 'datetime'), `${year + 7}${today.slice(4)}`, kept);
      assert.ok((await page.textContent(`#kept-${kept} + dd`)).includes(`${year + 7}${today.slice(4)}${w.period}`), kept);
    }
    await page.screenshot({ path: join(artifacts, `delete-${lang}.png`), fullPage: true });

    // The box must be ticked: the browser refuses to send the form without it.
    await page.click('#delete');
    assert.match(page.url(), /\/privacy\/me\/delete\?lang=/);
    assert.equal(await page.evaluate(() => document.querySelector('#confirm').validity.valid), false);

    await page.check('#confirm');
    await page.click('#delete');
    await page.waitForSelector('#reference');
    assert.equal(await page.textContent('h1'), w.done);
    // A reference a person can read out: R-XXXX-XXXX in Crockford's base32 (no I, L, O, U).
    assert.match(await page.textContent('#reference'), /^R-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    assert.ok(await page.isVisible('#kept-orders'));
    await page.screenshot({ path: join(artifacts, `deleted-${lang}.png`), fullPage: true });

    // Signed out: the data pages ask to sign in again.
    await page.goto(`${demo.base}/privacy/me?lang=${lang}`);
    assert.match(page.url(), /\/privacy\/sign-in/);
    await page.close();
  });
}

test('deleting an account works by keyboard alone', async () => {
  const page = await browser.newPage();
  await signIn(page, demo.base, 'customer6@example.com', 'en');
  await page.goto(`${demo.base}/privacy/me/delete?lang=en`);
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.id === 'confirm');
  }
  assert.ok(reached, 'the confirmation box is reachable with Tab');
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'delete');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#reference');
  assert.match(await page.textContent('#status'), /erased your data/);
  await page.close();
});
