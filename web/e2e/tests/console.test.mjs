// The staff console's enrolment page: a member of staff invited with `mamori staff invite` opens
// their one-time link and sets a password, in en/ja/fr; axe finds nothing serious and the page
// fits a 390 px phone; a link works once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startDemo, launchBrowser, artifacts, violations, overflow } from './harness.mjs';

let demo, browser;
before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
  for (let i = 0; i < 100 && !/privacy_officer role/.test(demo.output()); i++) await new Promise((r) => setTimeout(r, 50));
});
after(async () => { await browser?.close(); demo?.stop(); });

/** Invites `email` as support staff beside the running demo: the enrolment link. */
function invite(email) {
  const out = spawnSync(demo.bin, ['--data', demo.data, 'staff', 'invite', email, '--role', 'support', '--base-url', demo.base], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.match(/(http\S+\/console\/enrol\?token=\S+)/)[1];
}

const words = {
  en: { title: 'Activate your staff account', done: 'Your password is set.', differ: 'The two passwords differ.' },
  ja: { title: 'スタッフアカウントの有効化', done: 'パスワードを設定しました。', differ: '2つのパスワードが一致しません。' },
  fr: { title: 'Activer votre compte d\'équipe', done: 'Votre mot de passe est enregistré.', differ: 'Les deux mots de passe diffèrent.' },
};

for (const [lang, w] of Object.entries(words)) {
  test(`a member of staff enrols from their link, in ${lang}`, async () => {
    const link = `${invite(`staff-${lang}@example.com`)}&lang=${lang}`;
    const problems = [];
    for (const viewport of [{ width: 1280, height: 900 }, { width: 390, height: 844 }]) {
      const context = await browser.newContext({ bypassCSP: true, viewport });
      const page = await context.newPage();
      await page.goto(link);
      assert.equal(await page.textContent('h1'), w.title);
      if (viewport.width === 390) {
        const extra = await overflow(page);
        if (extra > 1) problems.push(`${extra} px wider than a 390 px phone`);
      } else {
        problems.push(...await violations(page));
      }
      await context.close();
    }
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(link);
    await page.fill('#password', 'a long and quiet harbour');
    await page.fill('#confirm', 'a long and quiet harbor');
    await page.click('#activate');
    assert.equal((await page.textContent('#error')).trim(), w.differ);
    problems.push(...(await violations(page)).map((v) => `with an error: ${v}`));
    await page.fill('#password', 'a long and quiet harbour');
    await page.fill('#confirm', 'a long and quiet harbour');
    await page.click('#activate');
    assert.equal((await page.textContent('#status')).trim(), w.done);
    await page.screenshot({ path: join(artifacts, `console-enrol-${lang}.png`), fullPage: true });
    // The link worked once.
    const again = await page.goto(link);
    assert.equal(again.status(), 404);
    assert.ok(await page.isVisible('#error'));
    assert.deepEqual(problems, [], problems.join('\n'));
    await context.close();
  });
}
