// Identified surveys: answered signed in, only after agreeing to the survey's purpose on My
// choices; the page explains itself in en/ja/fr, and works without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, launchBrowser, artifacts, signIn } from './harness.mjs';

let demo, browser;
const slug = 'followup';
const t = (en, ja, fr) => ({ en, ja, fr });

before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
  for (let i = 0; i < 100 && !/privacy_ops role/.test(demo.output()); i++) await new Promise((r) => setTimeout(r, 50));
  const key = demo.output().match(/API key \(privacy_ops role\):\s+(\S+)/)[1];
  const r = await fetch(`${demo.base}/v1/surveys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      slug, mode: 'identified', purpose: 'customer_research',
      title: t('After your order', 'ご注文のあとで', 'Après votre commande'),
      questions: [
        { id: 'speed', kind: 'rating', required: true, text: t('How fast was it?', '速さは？', 'Rapidité ?') },
        { id: 'comment', kind: 'text', text: t('Anything else?', 'その他', 'Autre chose ?') },
      ],
    }),
  });
  assert.equal(r.status, 201, await r.text());
});
after(async () => { await browser?.close(); demo?.stop(); });

const words = {
  en: { consent: 'we need your consent', linked: 'kept with your account', saved: 'saved with your account' },
  ja: { consent: '同意が必要です', linked: 'アカウントに結びつけて保存', saved: 'アカウントに保存しました' },
  fr: { consent: 'il faut votre accord', linked: 'gardées avec votre compte', saved: 'enregistrées avec votre compte' },
};
const customers = { en: 1, ja: 2, fr: 3 };

for (const [lang, w] of Object.entries(words)) {
  test(`agree on My choices, then answer, without JavaScript (${lang})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const external = [];
    page.on('request', (r) => { if (!r.url().startsWith(demo.base)) external.push(r.url()); });
    // Not signed in: the sign-in page, in the same language.
    await page.goto(`${demo.base}/survey/${slug}?lang=${lang}`);
    assert.match(page.url(), new RegExp(`/privacy/sign-in\\?lang=${lang}`));
    await signIn(page, demo.base, `customer${customers[lang]}@example.com`, lang);
    await page.goto(`${demo.base}/survey/${slug}?lang=${lang}`);
    assert.match(await page.textContent('#identified'), new RegExp(w.linked));
    assert.match(await page.textContent('#needs-consent'), new RegExp(w.consent));
    assert.equal(await page.locator('#survey').count(), 0, 'no form before consent');
    await page.screenshot({ path: join(artifacts, `survey-identified-consent-${lang}.png`), fullPage: true });
    await page.click('#needs-consent a');
    await page.waitForURL(/\/privacy\/choices/);
    await page.click('[id^="toggle-customer_research"]');
    await page.goto(`${demo.base}/survey/${slug}?lang=${lang}`);
    await page.check('input[name=a_speed][value="4"]');
    await page.fill('#a_comment', 'write to me at someone@example.com');
    await Promise.all([page.waitForNavigation(), page.click('#survey button[type=submit]')]);
    assert.match(await page.textContent('#status'), new RegExp(w.saved));
    await page.screenshot({ path: join(artifacts, `survey-identified-done-${lang}.png`), fullPage: true });
    assert.deepEqual(external, []);
    await context.close();
  });
}
