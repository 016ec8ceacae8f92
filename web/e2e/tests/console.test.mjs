// The staff console: a member of staff invited with `mamori staff invite` opens their one-time link,
// sets a password and an authenticator app (the TOTP code computed here by `otpauth`, an independent
// RFC 6238 implementation), keeps their recovery codes, signs in and reaches the console's pages —
// in en/ja/fr, axe finding nothing serious, each page fitting a 390 px phone; a link works once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import * as OTPAuth from 'otpauth';
import { startDemo, launchBrowser, artifacts, violations, overflow, repoRoot } from './harness.mjs';

let demo, browser;
before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
  for (let i = 0; i < 100 && !/privacy_ops role/.test(demo.output()); i++) await new Promise((r) => setTimeout(r, 50));
  await privateSurvey();
  await eraseOneCustomer();
});
after(async () => { await browser?.close(); demo?.stop(); });

/** A differentially private copy of the built-in survey beside the demo, answered six times. */
async function privateSurvey() {
  const definition = readFileSync(join(repoRoot, 'examples', 'survey.toml'), 'utf8')
    .replace(/^slug = .*$/m, 'slug = "dp-panel"')
    .replace(/^mode = .*$/m, 'mode = "anonymous"\nresults = "differential_privacy"\nepsilon_budget = 1.0');
  const file = join(demo.data, 'dp-panel.toml');
  writeFileSync(file, definition);
  const out = spawnSync(demo.bin, ['--data', demo.data, 'survey', 'create', file], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const invited = definition.replace(/^slug = .*$/m, 'slug = "invited-panel"')
    .replace(/^mode = "anonymous"$/m, 'mode = "anonymous"\naccess = "invited"');
  writeFileSync(join(demo.data, 'invited-panel.toml'), invited);
  const made = spawnSync(demo.bin, ['--data', demo.data, 'survey', 'create', join(demo.data, 'invited-panel.toml')], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  for (const trust of [5, 4, 4, 3, 5, 2]) {
    const r = await fetch(`${demo.base}/v1/surveys/dp-panel/responses`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ answers: { trust } }),
    });
    assert.equal(r.status, 204, await r.text());
  }
}

/** Erases a demo customer through the API, so the courier that received their address has a task. */
async function eraseOneCustomer() {
  const key = (role) => demo.output().match(new RegExp(`${role} role\\):\\s+(\\S+)`))[1];
  const found = await fetch(`${demo.base}/v1/subjects?email=customer20@example.com`, {
    headers: { authorization: `Bearer ${key('service')}`, 'mamori-purpose': 'order_fulfilment' },
  });
  const id = (await found.json()).ids[0];
  const erased = await fetch(`${demo.base}/v1/subjects/${id}`, {
    method: 'DELETE', headers: { authorization: `Bearer ${key('privacy_ops')}`, 'mamori-purpose': 'data_subject_rights' },
  });
  assert.equal(erased.status, 200, await erased.text());
}

/** Invites `email` as `role` beside the running demo: the enrolment link. */
function invite(email, role) {
  const out = spawnSync(demo.bin, ['--data', demo.data, 'staff', 'invite', email, '--role', role, '--base-url', demo.base], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.match(/(http\S+\/console\/enrol\?token=\S+)/)[1];
}

/** The code an authenticator app shows for the secret on the page, `ahead` steps from now. */
function totpCode(secret, ahead = 0) {
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
  return totp.generate({ timestamp: Date.now() + ahead * 30_000 });
}

/** axe and the phone's width for the page now open, at both sizes. */
async function checkPage(page, label) {
  const problems = (await violations(page)).map((v) => `${label}: ${v}`);
  await page.setViewportSize({ width: 390, height: 844 });
  const extra = await overflow(page);
  if (extra > 1) problems.push(`${label}: ${extra} px wider than a 390 px phone`);
  await page.setViewportSize({ width: 1280, height: 900 });
  return problems;
}

const words = {
  en: { title: 'Activate your staff account', done: 'Your account is active.', differ: 'The two passwords differ.', console: 'Staff console', out: 'You are signed out.', passed: 'You passed. Your training is recorded.' },
  ja: { title: 'スタッフアカウントの有効化', done: 'アカウントが有効になりました。', differ: '2つのパスワードが一致しません。', console: 'スタッフコンソール', out: 'サインアウトしました。', passed: '合格しました。研修の受講が記録されました。' },
  fr: { title: 'Activer votre compte d\'équipe', done: 'Votre compte est actif.', differ: 'Les deux mots de passe diffèrent.', console: 'Console de l\'équipe', out: 'Vous êtes déconnecté.', passed: 'Réussi. Votre formation est enregistrée.' },
};

for (const [lang, w] of Object.entries(words)) {
  test(`a member of staff enrols, signs in and out, in ${lang}`, async () => {
    const email = `staff-${lang}@example.com`;
    const link = `${invite(email, 'privacy_officer')}&lang=${lang}`;
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(link);
    assert.equal(await page.textContent('h1'), w.title);
    const problems = await checkPage(page, 'enrol');
    const secret = (await page.textContent('#totp-secret')).trim();
    await page.fill('#password', 'a long and quiet harbour');
    await page.fill('#confirm', 'a long and quiet harbor');
    await page.fill('#code', totpCode(secret));
    await page.click('#activate');
    assert.equal((await page.textContent('#error')).trim(), w.differ);
    assert.equal((await page.textContent('#totp-secret')).trim(), secret, 'the same secret after a refusal');
    problems.push(...(await violations(page)).map((v) => `with an error: ${v}`));
    await page.fill('#password', 'a long and quiet harbour');
    await page.fill('#confirm', 'a long and quiet harbour');
    await page.fill('#code', totpCode(secret));
    await page.click('#activate');
    assert.equal((await page.textContent('#status')).trim(), w.done);
    assert.equal(await page.locator('#recovery-codes li').count(), 10);
    problems.push(...await checkPage(page, 'recovery codes'));
    await page.screenshot({ path: join(artifacts, `console-enrol-${lang}.png`), fullPage: true });
    const again = await page.goto(link);
    assert.equal(again.status(), 404, 'the link works once');

    await page.goto(`${demo.base}/console/sign-in?lang=${lang}`);
    problems.push(...await checkPage(page, 'sign-in'));
    await page.fill('#email', email);
    await page.fill('#password', 'a long and quiet harbour');
    // The enrolment took this step's code: the next one (within the one step of skew allowed).
    await page.fill('#code', totpCode(secret, 1));
    await page.click('#sign-in');
    assert.equal(await page.textContent('h1'), w.console);
    assert.equal(await page.textContent('#who'), email);
    problems.push(...await checkPage(page, 'home'));
    await page.screenshot({ path: join(artifacts, `console-home-${lang}.png`), fullPage: true });
    // The privacy officer's role asks for training: the course and its quiz, from the policy.
    assert.ok(await page.isVisible('#take-training'));
    await page.click('#take-training');
    problems.push(...await checkPage(page, 'training'));
    for (const [question, answer] of [['allowed', 'yes'], ['refused', 'no'], ['caller', 'verify'], ['incident', 'report']]) {
      await page.check(`input[name="q_${question}"][value="${answer}"]`);
    }
    await page.click('#submit-quiz');
    assert.equal((await page.textContent('#status')).trim(), w.passed);
    await page.goto(`${demo.base}/console?lang=${lang}`);
    assert.ok(await page.isVisible('#overdue'), 'trained: the request register opens');
    // Customers: one person, for a purpose of the role; what that purpose lets the role see.
    await page.click('nav a[href^="/console/customers"]');
    await page.selectOption('#kind', 'email');
    await page.fill('#value', 'customer1@example.com');
    await page.selectOption('#purpose', 'data_subject_rights');
    await page.click('#find');
    assert.match(await page.textContent('#customer-id'), /^[0-9a-f-]{36}$/);
    problems.push(...await checkPage(page, 'customers'));
    await page.screenshot({ path: join(artifacts, `console-customers-${lang}.png`), fullPage: true });
    // Who on the staff accessed this customer: the ledger, filtered for them.
    await page.click('#who-accessed');
    assert.ok(await page.isVisible('#signed-head'));
    assert.ok((await page.locator('#events tbody tr').count()) >= 1, 'the lookup just made is there');
    problems.push(...await checkPage(page, 'ledger'));
    // An event's inclusion proof, checked by the page; then a kept head's consistency form.
    await page.click('#events .proof-link');
    assert.ok(await page.isVisible('#proof-result.status'), 'the proof checks');
    problems.push(...await checkPage(page, 'inclusion proof'));
    const kept = { size: await page.textContent('#head-size'), root: await page.textContent('#head-root') };
    await page.goto(`${demo.base}/console/ledger/consistency?lang=${lang}`);
    await page.fill('#head-size-input', kept.size);
    await page.fill('#head-root-input', kept.root);
    await page.click('#check-consistency');
    assert.ok(await page.isVisible('#consistency-result.status'), 'the ledger extends the kept head');
    problems.push(...await checkPage(page, 'consistency'));
    // Verify now: the whole ledger in the background, its progress and verdict on the page.
    await page.goto(`${demo.base}/console/ledger/verify?lang=${lang}`);
    problems.push(...await checkPage(page, 'verify the ledger'));
    await page.click('#verify-now');
    for (let i = 0; i < 100 && !(await page.isVisible('#verify-result')); i++) {
      await new Promise((r) => setTimeout(r, 100));
      await page.goto(`${demo.base}/console/ledger/verify?lang=${lang}`);
    }
    assert.ok(await page.isVisible('#verify-result.status'), 'the whole ledger verifies');
    problems.push(...await checkPage(page, 'ledger verified'));
    // A request by e-mail, recorded in the console: verify who is asking, then it can be answered.
    await page.goto(`${demo.base}/console/requests?lang=${lang}`);
    await page.selectOption('#open-kind', 'access');
    await page.selectOption('#open-jurisdiction', 'gdpr');
    await page.fill('#open-customer', 'customer1@example.com');
    await page.click('#open-submit');
    await page.waitForURL(/\/console\/requests\/[0-9a-f-]{36}/);
    problems.push(...await checkPage(page, 'request to verify'));
    await page.selectOption('#verify-how', 'id_document');
    await page.click('#step-verify');
    assert.ok(await page.isVisible('#step-fulfil'), 'verified: it can be answered');
    problems.push(...await checkPage(page, 'request verified'));
    await page.goto(`${demo.base}/console/requests?lang=${lang}`);
    problems.push(...await checkPage(page, 'requests'));
    await page.goto(`${demo.base}/console/surveys?lang=${lang}`);
    problems.push(...await checkPage(page, 'surveys'));
    await page.click('#surveys a[href*="how-we-use-your-data"]');
    assert.ok((await page.locator('.chart svg').count()) >= 1, 'the built-in survey is charted');
    problems.push(...await checkPage(page, 'survey results'));
    await page.goto(`${demo.base}/console/surveys/dp-panel?lang=${lang}`);
    await page.fill('#release-epsilon', '0.1');
    await page.click('#release');
    assert.ok(await page.isVisible('#dp-latest'), 'a release made in the console shows its numbers');
    problems.push(...await checkPage(page, 'private survey released'));
    await page.goto(`${demo.base}/console/surveys/invited-panel?lang=${lang}`);
    problems.push(...await checkPage(page, 'invited survey'));
    await page.fill('#invite-subjects', '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b');
    await page.click('#invite');
    assert.equal(await page.locator('#invitations tbody tr').count(), 1, 'an unknown id is told, not invited');
    problems.push(...await checkPage(page, 'invitations'));
    await page.goto(`${demo.base}/console/admin/staff?lang=${lang}`);
    assert.ok((await page.textContent('#staff')).includes(email));
    problems.push(...await checkPage(page, 'administration'));
    await page.click('#system-link');
    assert.ok(await page.isVisible('#api-keys'));
    problems.push(...await checkPage(page, 'keys and connections'));
    await page.click('#keys-link');
    await page.fill('#key-name', `browser ${lang}`);
    await page.selectOption('#key-role', 'service');
    await page.click('#create-key');
    assert.match(await page.textContent('#new-key'), /^mamori_/, 'the new key is shown once');
    problems.push(...await checkPage(page, 'api keys'));
    await page.goto(`${demo.base}/console/admin/system?lang=${lang}`);
    await page.click('#webhooks-link');
    assert.ok(await page.isVisible('#webhook-url'));
    problems.push(...await checkPage(page, 'webhooks'));
    // A subscription paused (held, not dropped), resumed, then removed: the page's controls.
    await page.fill('#webhook-url', `https://203.0.113.7/browser-${lang}`);
    await page.click('#add-webhook');
    assert.match(await page.textContent('#new-secret'), /^whsec_/, 'the secret is shown once');
    await page.click('.pause-webhook');
    assert.ok(await page.isVisible('.resume-webhook'), 'a paused subscription offers Resume');
    assert.ok(await page.isVisible('.paused-since'));
    problems.push(...await checkPage(page, 'webhook paused'));
    await page.click('.resume-webhook');
    assert.ok(await page.isVisible('.pause-webhook'), 'resumed');
    await page.click('.remove-webhook');
    assert.ok(!(await page.isVisible('#hooks')), 'removed');
    await page.goto(`${demo.base}/console/admin/system?lang=${lang}`);
    await page.click('#agents-link');
    assert.ok(await page.isVisible('#agent-key'));
    problems.push(...await checkPage(page, 'agents'));
    await page.goto(`${demo.base}/console/admin/system?lang=${lang}`);
    await page.click('#holds-link');
    await page.fill('#hold-customer', `customer${lang === 'en' ? 5 : lang === 'ja' ? 6 : 7}@example.com`);
    await page.selectOption('#hold-reason', 'tax_audit');
    await page.click('#place-hold');
    assert.ok(await page.isVisible('#holds'), 'the hold placed is listed');
    problems.push(...await checkPage(page, 'legal holds'));
    await page.goto(`${demo.base}/console/admin/system?lang=${lang}`);
    await page.click('#vendors-link');
    assert.equal(await page.locator('#vendor-register tbody tr').count(), 2, 'the example policy\'s two vendors');
    assert.ok((await page.textContent('#vendor-tasks')).includes('kuroneko_logistics'), 'the courier was asked to erase');
    problems.push(...await checkPage(page, 'vendors'));
    await page.goto(`${demo.base}/console/admin/system?lang=${lang}`);
    await page.click('#policy-link');
    assert.ok((await page.textContent('#in-force')).includes('v1'), 'the demo published its policy as v1');
    await page.click('#compare button[type=submit]');
    assert.ok(await page.isVisible('#no-changes'), 'v1 is the policy in force');
    problems.push(...await checkPage(page, 'policy'));
    await page.click('#records-link');
    assert.ok(await page.isVisible('#activity-order_fulfilment'), 'each purpose is a processing activity');
    assert.ok(await page.isVisible('#processor-kuroneko_logistics'), 'each processor of the register has its record');
    assert.ok((await page.textContent('#version')).includes('v1'), 'the records name the version in force');
    problems.push(...await checkPage(page, 'records of processing'));
    await page.goto(`${demo.base}/console/admin/system?lang=${lang}`);
    await page.click('#report-link');
    assert.ok(await page.isVisible('#sentiment'), 'the demo\'s answers to the built-in survey are summarised');
    problems.push(...await checkPage(page, 'privacy report'));
    await page.goto(`${demo.base}/console/admin/system?lang=${lang}`);
    await page.click('#posture-link');
    assert.ok(await page.isVisible('#check-ledger'), 'the vault\'s checks are shown');
    assert.ok(await page.isVisible('#check-backups'), 'mamori demo gave the server its machine checks');
    assert.equal(await page.locator('#machine-unchecked').count(), 0);
    problems.push(...await checkPage(page, 'security posture'));
    await page.goto(`${demo.base}/console/incidents?lang=${lang}`);
    problems.push(...await checkPage(page, 'incidents'));
    await page.fill('#incident-title', `Lost phone (${lang})`);
    await page.selectOption('#incident-kind', 'lost_device');
    await page.selectOption('#incident-severity', 'medium');
    await page.click('#open-incident');
    assert.ok(await page.isVisible('#timeline'), 'the new incident shows its timeline');
    await page.fill('#entry-note', 'Remote wipe sent');
    await page.selectOption('#entry-status', 'contained');
    await page.click('#add-entry');
    assert.equal((await page.textContent('#incident-version')).trim(), '2');
    assert.equal(await page.locator('#timeline tbody tr').count(), 2);
    problems.push(...await checkPage(page, 'incident'));
    await page.goto(`${demo.base}/console/incidents?lang=${lang}`);
    await page.selectOption('#drill-scenario', 'misdirected_export');
    await page.click('#start-drill');
    assert.ok(await page.isVisible('#timeline'), 'the drill is an incident with its timeline');
    assert.ok(await page.isVisible('#no-notices'), 'no notices prepared yet');
    await page.click('#drafts li:first-child a');
    assert.ok(await page.isVisible('li.to-complete'), 'the draft marks what staff complete');
    problems.push(...await checkPage(page, 'regulator draft'));
    await page.goto(`${demo.base}/console/sessions?lang=${lang}`);
    assert.equal(await page.locator('#sessions tbody tr').count(), 1);
    problems.push(...await checkPage(page, 'sessions'));
    await page.click('#sign-out');
    assert.equal((await page.textContent('#status')).trim(), w.out);
    const home = await page.goto(`${demo.base}/console?lang=${lang}`);
    assert.ok(home.url().includes('/console/sign-in'), 'signed out: the console asks to sign in');
    assert.deepEqual(problems, [], problems.join('\n'));
    await context.close();
  });
}
