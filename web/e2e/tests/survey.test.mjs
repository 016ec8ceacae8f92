// The anonymous survey page (`mamori demo` creates "How do you feel about how we use your data?"):
// a plain form in en/ja/fr that needs no script, sets no cookie and loads nothing from elsewhere,
// keyboard-only use, and results that stay hidden until k people have answered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, launchBrowser, artifacts } from './harness.mjs';

let demo, browser;
before(async () => { demo = await startDemo(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); demo?.stop(); });

const slug = 'how-we-use-your-data';
const words = {
  en: { title: 'How do you feel about how we use your data?', anonymous: 'This survey is anonymous', thanks: 'Thank you for your answers' },
  ja: { title: '私たちのデータの使い方をどう感じていますか？', anonymous: 'このアンケートは匿名です', thanks: 'ご回答ありがとうございました' },
  fr: { title: 'Que pensez-vous de la façon dont nous utilisons vos données ?', anonymous: 'Ce questionnaire est anonyme', thanks: 'Merci pour votre réponse' },
};

function officerKey() {
  const m = demo.output().match(/API key \(privacy_ops role\):\s+(\S+)/);
  assert.ok(m, 'the demo prints the privacy officer key');
  return m[1];
}

async function results(survey) {
  const r = await fetch(`${demo.base}/v1/surveys/${survey}/results`, { headers: { authorization: `Bearer ${officerKey()}` } });
  assert.equal(r.status, 200);
  return r.json();
}

for (const [lang, w] of Object.entries(words)) {
  test(`answer the survey in ${lang}`, async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const external = [];
    page.on('request', (r) => { if (!r.url().startsWith(demo.base)) external.push(r.url()); });
    const response = await page.goto(`${demo.base}/survey/${slug}?lang=${lang}`);
    assert.equal(response.status(), 200);
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    assert.equal(await page.textContent('h1'), w.title);
    assert.match(await page.textContent('#anonymous'), new RegExp(w.anonymous));
    assert.equal(await page.locator('link[rel=alternate][hreflang]').count(), 3);
    await page.screenshot({ path: join(artifacts, `survey-${lang}.png`), fullPage: true });
    // The rating is required: the browser will not send the form without it.
    await page.click('#survey button[type=submit]');
    assert.equal(await page.locator('#anonymous').count(), 1, 'still on the form');
    await page.check('input[name=a_trust][value="4"]');
    await page.check('input[name=a_clear][value=partly]');
    await page.check('input[name=a_worries][value=sharing]');
    await page.check('input[name=a_worries][value=security]');
    await page.fill('#a_comment', `Please stop mailing me at someone.${lang}@example.com`);
    await Promise.all([page.waitForNavigation(), page.click('#survey button[type=submit]')]);
    assert.match(await page.textContent('h1'), new RegExp(w.thanks));
    await page.screenshot({ path: join(artifacts, `survey-done-${lang}.png`), fullPage: true });
    assert.deepEqual(await context.cookies(), [], 'no cookie');
    assert.deepEqual(external, []);
    await context.close();
  });
}

test('answer the survey with the keyboard only', async () => {
  const page = await browser.newPage();
  await page.goto(`${demo.base}/survey/${slug}?lang=en`);
  // Tab through the language links and the notice link to the first rating, then pick 5.
  let focused = '';
  for (let i = 0; i < 10 && focused !== 'a_trust'; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement?.getAttribute('name') || '');
  }
  assert.equal(focused, 'a_trust', 'the first rating is reachable with Tab');
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
  assert.equal(await page.inputValue('input[name=a_trust]:checked'), '5');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.match(await page.textContent('h1'), /Thank you/);
  await page.close();
});

test('the answers given on the page are counted with the 24 the demo seeded', async () => {
  const built_in = await results(slug);
  assert.equal(built_in.responses, 24 + 4, 'three languages and the keyboard run');
  assert.ok(!built_in.suppressed, 'results show');
  const texts = built_in.questions.find((q) => q.id === 'comment').texts.join(' ');
  assert.ok(!texts.includes('@example.com'), texts);
  assert.match(texts, /\[EMAIL\]/, 'the address typed on the page was scrubbed');
});

test('results stay hidden until five people have answered, and never show the e-mail typed', async () => {
  // A survey of its own: the built-in one starts with the demo's answers.
  const t = (en) => ({ en, ja: en, fr: en });
  const created = await fetch(`${demo.base}/v1/surveys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${officerKey()}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      slug: 'fresh', mode: 'anonymous', title: t('Fresh'),
      questions: [
        { id: 'trust', kind: 'rating', required: true, text: t('Trust?') },
        { id: 'clear', kind: 'single', text: t('Clear?'), choices: [{ id: 'yes', text: t('Yes') }, { id: 'no', text: t('No') }] },
        { id: 'comment', kind: 'text', text: t('Comment?') },
      ],
    }),
  });
  assert.equal(created.status, 201, await created.text());
  const answer = async (answers) => {
    const r = await fetch(`${demo.base}/v1/surveys/fresh/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ answers }),
    });
    assert.equal(r.status, 204);
  };
  for (const trust of [4, 5, 4, 1]) await answer({ trust, comment: 'write to someone@example.com' });
  const before = await results('fresh');
  assert.equal(before.responses, null);
  assert.equal(before.suppressed, true);
  await answer({ trust: 2, clear: 'no', comment: 'call me on +33 6 12 34 56 78' });
  const after = await results('fresh');
  assert.equal(after.responses, 5);
  const trust = after.questions.find((q) => q.id === 'trust');
  assert.equal(trust.answered, 5);
  assert.ok(trust.histogram.every((cell) => cell.suppressed === true), 'no rating was given five times');
  const texts = after.questions.find((q) => q.id === 'comment').texts.join(' ');
  assert.ok(!texts.includes('@example.com') && !texts.includes('12 34 56'), texts);
  assert.match(texts, /\[EMAIL\]/);
  assert.match(texts, /\[PHONE\]/);
});
