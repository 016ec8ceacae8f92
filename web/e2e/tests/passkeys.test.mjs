// Passkeys in the console, in real Chromium with its virtual authenticator (CDP's WebAuthn
// domain: a user-verifying platform authenticator that keeps resident keys). A privacy officer
// enrols with a passkey instead of an app, signs in with the passkey alone, confirms a
// sensitive step (inviting staff) with it, and a copy of the passkey whose signature counter is
// behind is refused — in en/ja/fr, axe finding nothing serious, fitting 390 px. The console's
// one script is its own file, which the pages' Content-Security-Policy (`script-src 'self'`) allows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startDemo, launchBrowser, artifacts, violations, overflow } from './harness.mjs';

let demo, browser, origin;
before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
  // Passkeys belong to a host name: the demo's loopback address is `localhost` to them.
  origin = demo.base.replace('127.0.0.1', 'localhost');
});
after(async () => { await browser?.close(); demo?.stop(); });

function invite(email, role) {
  const out = spawnSync(demo.bin, ['--data', demo.data, 'staff', 'invite', email, '--role', role, '--base-url', origin], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.match(/(http\S+\/console\/enrol\?token=\S+)/)[1];
}

async function checkPage(page, label) {
  const problems = (await violations(page)).map((v) => `${label}: ${v}`);
  await page.setViewportSize({ width: 390, height: 844 });
  const extra = await overflow(page);
  if (extra > 1) problems.push(`${label}: ${extra} px wider than a 390 px phone`);
  await page.setViewportSize({ width: 1280, height: 900 });
  return problems;
}

async function authenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, authenticatorId };
}

const words = {
  en: { done: 'Your account is active.', console: 'Staff console' },
  ja: { done: 'アカウントが有効になりました。', console: 'スタッフコンソール' },
  fr: { done: 'Votre compte est actif.', console: 'Console de l\'équipe' },
};

for (const [lang, w] of Object.entries(words)) {
  test(`a privacy officer works with a passkey alone, and a cloned one is refused, in ${lang}`, async () => {
    const email = `passkey-${lang}@example.com`;
    // axe is injected inline, so the page's CSP is bypassed; the header is checked on its own.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const { cdp, authenticatorId } = await authenticator(context, page);
    await page.goto(`${invite(email, 'privacy_officer')}&lang=${lang}`);
    const problems = await checkPage(page, 'enrol');
    assert.ok(await page.isVisible('#passkey-enrol'), 'the script shows the passkey button');
    await page.fill('#password', 'a long and quiet harbour');
    await page.fill('#confirm', 'a long and quiet harbour');
    await page.click('#passkey-enrol');
    await page.waitForSelector('#recovery-codes');
    assert.equal((await page.textContent('#status')).trim(), w.done);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.ok(credentials[0].isResidentCredential, 'a discoverable passkey');

    // The passkey alone: no address, password or code typed.
    const signInPage = await page.goto(`${origin}/console/sign-in?lang=${lang}`);
    assert.match(signInPage.headers()['content-security-policy'], /script-src 'self'/);
    problems.push(...await checkPage(page, 'sign-in'));
    await page.click('#passkey-sign-in');
    await page.waitForURL(/\/console\?lang=/);
    assert.equal(await page.textContent('h1'), w.console);
    assert.equal(await page.textContent('#who'), email);
    await page.click('#take-training');
    for (const [question, answer] of [['allowed', 'yes'], ['refused', 'no'], ['caller', 'verify'], ['incident', 'report']]) {
      await page.check(`input[name="q_${question}"][value="${answer}"]`);
    }
    await page.click('#submit-quiz');

    // Their sign-in methods: the passkey, which being the only one cannot be removed.
    await page.goto(`${origin}/console/sessions?lang=${lang}`);
    assert.equal(await page.locator('#factors tbody tr').count(), 1);
    assert.equal(await page.locator('.remove-factor').count(), 0);
    assert.ok(await page.isVisible('#passkey-add'));
    problems.push(...await checkPage(page, 'sign-in methods'));

    // A sensitive step, confirmed with the passkey.
    await page.goto(`${origin}/console/admin/staff?lang=${lang}`);
    problems.push(...await checkPage(page, 'administration'));
    await page.fill('#invite-email', `invited-${lang}@example.com`);
    await page.click('#passkey-confirm-invite');
    await page.waitForSelector('#enrolment-link');
    await page.screenshot({ path: join(artifacts, `console-passkey-${lang}.png`), fullPage: true });
    await page.click('#sign-out');

    // A copy of the key whose counter is behind the one the server keeps: a clone.
    const [kept] = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    assert.ok(kept.signCount >= 2);
    await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: kept.credentialId });
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: { ...kept, signCount: 0 } });
    await page.goto(`${origin}/console/sign-in?lang=${lang}`);
    const refused = page.waitForResponse((r) => r.url().endsWith('/console/sign-in') && r.request().method() === 'POST');
    await page.click('#passkey-sign-in');
    assert.equal((await refused).status(), 401);
    await page.waitForSelector('#error');
    problems.push(...await checkPage(page, 'refused'));
    assert.deepEqual(problems, [], problems.join('\n'));
    await context.close();
  });
}
