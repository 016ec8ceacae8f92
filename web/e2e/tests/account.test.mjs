// Signing in to the privacy center with a one-time code and seeing "My data", in every language;
// one run by keyboard alone. The demo has no mail server: codes are read from its outbox page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, launchBrowser, artifacts, codeFor, signIn } from './harness.mjs';

let demo, browser;
before(async () => { demo = await startDemo(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); demo?.stop(); });

const words = {
  en: { link: 'sign in', sent: 'If we know this address', me: 'My data', out: 'Sign out', contact: 'Contact details' },
  ja: { link: 'サインイン', sent: 'このアドレスが登録されている場合', me: 'マイデータ', out: 'サインアウト', contact: '連絡先' },
  fr: { link: 'se connecter', sent: 'Si nous connaissons cette adresse', me: 'Mes données', out: 'Se déconnecter', contact: 'Coordonnées' },
};


const customers = { en: 1, ja: 2, fr: 3 };

for (const [lang, w] of Object.entries(words)) {
  test(`sign in with a code and see my data in ${lang}`, async () => {
    const page = await browser.newPage();
    const external = [];
    page.on('request', (r) => { if (!r.url().startsWith(demo.base)) external.push(r.url()); });
    const address = `customer${customers[lang]}@example.com`;
    await page.goto(`${demo.base}/privacy?lang=${lang}`);
    await page.click('#sign-in a');
    await page.fill('#email', address);
    await page.click('button[type=submit]');
    assert.match(await page.textContent('#status'), new RegExp(w.sent));
    await page.screenshot({ path: join(artifacts, `signin-code-${lang}.png`), fullPage: true });
    await page.fill('#code', await codeFor(demo.base, address));
    await page.click('button[type=submit]');
    await page.waitForURL(/\/privacy\/me/);
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    assert.match(await page.textContent('h1'), new RegExp(w.me));
    const main = await page.textContent('main');
    assert.ok(main.includes(address), 'the person sees their own e-mail address');
    assert.ok(main.includes(w.contact), `category labels in ${lang}`);
    // The demo gives each customer an order and a support request: records, shown by kind.
    const orders = await page.textContent('#category-orders');
    assert.ok(orders.includes(`K-0${1000 + customers[lang]}`), `the order is shown: ${orders}`);
    assert.ok((await page.textContent('#category-support_tickets')).includes('Delivery question'));
    // … and the courier it was handed to: who received what, for which purpose, when, where.
    const shared = await page.textContent('#shared-with');
    assert.ok(shared.includes('Kuroneko Logistics K.K.') && shared.includes('JP'), `shared: ${shared}`);
    await page.screenshot({ path: join(artifacts, `my-data-${lang}.png`), fullPage: true });
    await page.click(`button:has-text("${w.out}")`);
    await page.waitForURL(/\/privacy\?lang=/);
    const again = await page.goto(`${demo.base}/privacy/me?lang=${lang}`);
    assert.ok(again.url().includes('/privacy/sign-in'), 'signed out: my data asks to sign in');
    assert.deepEqual(external, [], 'no third-party requests');
    await page.close();
  });
}

test('the whole sign-in works by keyboard alone', async () => {
  const page = await browser.newPage();
  await page.goto(`${demo.base}/privacy/sign-in?lang=en`);
  // The e-mail field has focus on arrival.
  await page.waitForFunction(() => document.activeElement?.id === 'email');
  await page.keyboard.type('customer4@example.com');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#code');
  await page.waitForFunction(() => document.activeElement?.id === 'code');
  await page.keyboard.type(await codeFor(demo.base, 'customer4@example.com'));
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/privacy\/me/);
  assert.match(await page.textContent('h1'), /My data/);
  await page.close();
});

test('a wrong code says so and lets you try again', async () => {
  const page = await browser.newPage();
  await page.goto(`${demo.base}/privacy/sign-in?lang=fr`);
  await page.fill('#email', 'customer5@example.com');
  await page.click('button[type=submit]');
  const code = await codeFor(demo.base, 'customer5@example.com');
  await page.fill('#code', code === '000000' ? '111111' : '000000');
  await page.click('button[type=submit]');
  assert.match(await page.textContent('#error'), /pas le bon/);
  await page.fill('#code', code);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/privacy\/me/);
  await page.close();
});

// Each language's typography: a full-width colon in Japanese, a narrow no-break space before it in French.
const choiceWords = {
  en: { choices: 'My choices', on: 'E-mail: On', saved: 'Saved', sold: 'we will not sell or share', selling: 'Current state: you allow it for Sharing with partner brands.', out: 'Current state: opted out.' },
  ja: { choices: '同意の設定', on: 'メール：オン', saved: '保存しました', sold: '販売・共有しません', selling: '現在の状態：次の用途で許可しています：提携ブランドとの共有。', out: '現在の状態：拒否しています。' },
  fr: { choices: 'Mes choix', on: 'E-mail\u202f: Activé', saved: 'Enregistré', sold: 'nous ne vendrons ni ne partagerons', selling: 'État actuel\u202f: vous l\'autorisez pour Partage avec des marques partenaires.', out: 'État actuel\u202f: refusé.' },
};
const choiceCustomers = { en: 6, ja: 7, fr: 8 };
const gpcWords = {
  en: { honoured: 'Your browser sends a Global Privacy Control signal', off: 'E-mail: Off (Global Privacy Control)', plainOff: 'E-mail: Off' },
  ja: { honoured: 'グローバル・プライバシー・コントロール（GPC）の信号を送っています', off: 'メール：オフ（GPCによる）', plainOff: 'メール：オフ' },
  fr: { honoured: 'Votre navigateur envoie un signal Global Privacy Control', off: 'E-mail\u202f: Désactivé (Global Privacy Control)', plainOff: 'E-mail\u202f: Désactivé' },
};
const gpcCustomers = { en: 14, ja: 15, fr: 16 };


for (const [lang, w] of Object.entries(choiceWords)) {
  test(`my choices: one click to agree, one to refuse sale or sharing, in ${lang}`, async () => {
    const page = await browser.newPage();
    await signIn(page, demo.base, `customer${choiceCustomers[lang]}@example.com`, lang);
    await page.click(`nav a:has-text("${w.choices}")`);
    await page.waitForURL(/\/privacy\/choices/);
    await page.click('#toggle-marketing_email-email');
    assert.match(await page.textContent('#status'), new RegExp(w.saved));
    assert.equal((await page.textContent('#state-marketing_email-email')).trim(), w.on);
    // "Do not sell or share" says where the person stands, and is offered only when it would change something.
    assert.match(await page.textContent('#do-not-sell-state'), new RegExp(w.out));
    assert.equal(await page.locator('#opt-out').count(), 0);
    await page.click('#toggle-partner_sharing-email');
    assert.equal((await page.textContent('#do-not-sell-state')).trim(), w.selling);
    await page.click('#opt-out');
    assert.match(await page.textContent('#status'), new RegExp(w.sold));
    assert.match(await page.textContent('#do-not-sell-state'), new RegExp(w.out));
    await page.screenshot({ path: join(artifacts, `choices-${lang}.png`), fullPage: true });
    await page.close();
  });
}

for (const [lang, w] of Object.entries(gpcWords)) {
  test(`my choices with Sec-GPC: 1 says the signal was honoured and what it turned off, in ${lang}`, async () => {
    // Agreed to sharing first, without the signal.
    const plain = await browser.newPage();
    await signIn(plain, demo.base, `customer${gpcCustomers[lang]}@example.com`, lang);
    await plain.goto(`${demo.base}/privacy/choices?lang=${lang}`);
    await plain.click('#toggle-partner_sharing-email');
    assert.equal(await plain.locator('#gpc').count(), 0, 'no GPC message without the signal');
    const cookies = await plain.context().cookies();
    await plain.close();
    // The same session from a browser that sends the signal.
    const context = await browser.newContext({ extraHTTPHeaders: { 'Sec-GPC': '1' } });
    await context.addCookies(cookies);
    const page = await context.newPage();
    await page.goto(`${demo.base}/privacy/choices?lang=${lang}`);
    assert.match(await page.textContent('#gpc'), new RegExp(w.honoured));
    assert.equal((await page.textContent('#state-partner_sharing-email')).trim(), w.off);
    assert.equal((await page.textContent('#state-marketing_email-email')).trim(), w.plainOff, 'only sale or sharing is touched');
    // Turned on again by the person, with the signal on: that choice stands on the next visit.
    await page.click('#toggle-partner_sharing-email');
    await page.goto(`${demo.base}/privacy/choices?lang=${lang}`);
    assert.equal((await page.textContent('#state-partner_sharing-email')).trim(), choiceWords[lang].on);
    await page.screenshot({ path: join(artifacts, `choices-gpc-${lang}.png`), fullPage: true });
    await context.close();
  });
}

test('download my data gives a zip', async () => {
  const page = await browser.newPage();
  await signIn(page, demo.base, 'customer9@example.com', 'en');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download a')]);
  assert.equal(download.suggestedFilename(), 'my-data.zip');
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  const bytes = readFileSync(path);
  assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'a zip archive');
  await page.close();
});

const activityWords = {
  en: { title: 'Who accessed my data', you: 'You', allowed: 'Allowed', viewed: 'Viewed your data' },
  ja: { title: 'データへのアクセス履歴', you: 'お客様ご自身', allowed: '許可', viewed: 'データを閲覧' },
  fr: { title: 'Qui a accédé à mes données', you: 'Vous', allowed: 'Autorisé', viewed: 'A consulté vos données' },
};
const activityCustomers = { en: 10, ja: 11, fr: 12 };

for (const [lang, w] of Object.entries(activityWords)) {
  test(`who accessed my data, with a proof per event, in ${lang}`, async () => {
    const page = await browser.newPage();
    await signIn(page, demo.base, `customer${activityCustomers[lang]}@example.com`, lang);
    await page.click('#activity-link a');
    await page.waitForURL(/\/privacy\/me\/activity/);
    assert.match(await page.textContent('h1'), new RegExp(w.title));
    const table = await page.textContent('#events');
    // Signing in and viewing "My data" were the person's own accesses; creating the record
    // was the demo's service key.
    assert.ok(table.includes(w.you) && table.includes(w.viewed) && table.includes(w.allowed), table);
    assert.ok(table.includes('service'), 'the role that created the record');
    await page.screenshot({ path: join(artifacts, `activity-${lang}.png`), fullPage: true });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#events tbody tr:last-child a'),
    ]);
    const { readFileSync } = await import('node:fs');
    const proof = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.equal(proof.format, 'mamori-inclusion-proof/1');
    assert.equal(proof.event.action, 'subject.create', 'the oldest event: the record was created');
    assert.ok(proof.audit_path.length > 0 && proof.signed_tree_head.signature);
    await page.close();
  });
}

test('the access history and its proofs work by keyboard alone', async () => {
  const page = await browser.newPage();
  await signIn(page, demo.base, 'customer13@example.com', 'en');
  await page.goto(`${demo.base}/privacy/me/activity?lang=en`);
  let reached = false;
  for (let i = 0; i < 30 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.closest('#events') !== null);
  }
  assert.ok(reached, 'a proof link is reachable with Tab');
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  assert.match(download.suggestedFilename(), /^mamori-proof-\d+\.json$/);
  await page.close();
});

