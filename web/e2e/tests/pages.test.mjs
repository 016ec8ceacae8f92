// Every page, in every language: no serious or critical accessibility violation (axe-core,
// injected by Playwright), and no horizontal scrolling on a phone (390 × 844).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launchBrowser, signIn, violations, overflow } from './harness.mjs';

let demo, browser;
before(async () => { demo = await startDemo(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); demo?.stop(); });

const publicPages = [
  '/privacy',
  '/privacy/notice',
  '/privacy/notice?kind=full',
  '/privacy/sign-in',
  '/survey/how-we-use-your-data',
  '/privacy/demo/outbox',
];
const signedInPages = ['/privacy/me', '/privacy/me/records?kind=orders', '/privacy/choices', '/privacy/me/correct', '/privacy/me/delete', '/privacy/me/activity'];
const customers = { en: 4, ja: 5, fr: 6 };

for (const lang of ['en', 'ja', 'fr']) {
  test(`every page in ${lang}: accessible, and fits a phone`, async () => {
    // axe is injected as a script: the pages' own CSP (rightly) forbids that, so it is bypassed here.
    const wide = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const phone = await browser.newContext({ bypassCSP: true, viewport: { width: 390, height: 844 }, isMobile: true });
    const problems = [];
    for (const context of [wide, phone]) {
      const page = await context.newPage();
      await signIn(page, demo.base, `customer${customers[lang]}@example.com`, lang);
      for (const path of [...publicPages, ...signedInPages]) {
        const url = `${demo.base}${path}${path.includes('?') ? '&' : '?'}lang=${lang}`;
        const r = await page.goto(url);
        assert.equal(r.status(), 200, url);
        if (context === wide) {
          for (const v of await violations(page)) problems.push(`${path}: ${v}`);
        } else {
          const extra = await overflow(page);
          if (extra > 1) problems.push(`${path}: ${extra} px wider than a 390 px phone`);
        }
      }
      await page.close();
    }
    await wide.close();
    await phone.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });
}
