// SPDX-License-Identifier: GPL-3.0-or-later
// The forecaster's path through the web console in Debian's chromium, headless: log in,
// compose a rainstorm warning for two towns from its template, preview, publish with one
// confirmation, and see it on air; then the other screens. Counts the clicks and the seconds
// from opening the console to the warning on air, saves screenshots, prints one JSON line.
// Usage: node console.mjs URL NAME PASSWORD SCREENSHOT_DIR   (run by tests/browser/console.sh)
import { chromium } from 'playwright-core';

const [url, name, password, shots] = process.argv.slice(2);
const TOWNS = { 杨和镇: '440608101', 明城镇: '440608102' };

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  // Chromium calls home unless told not to; the namespace has only loopback anyway.
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-extensions', '--no-first-run',
    '--disable-default-apps', '--disable-domain-reliability', '--metrics-recording-only',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    '--autoplay-policy=no-user-gesture-required'],
});
const context = await browser.newContext({ viewport: { width: 1360, height: 900 },
  locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
const page = await context.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
// Nothing may leave for another host: every request must be to the head-end.
page.on('request', (r) => { if (!r.url().startsWith(url) && !r.url().startsWith('blob:') &&
  !r.url().startsWith('data:')) errors.push('request to ' + r.url()); });

let clicks = 0;
async function click(selector) {
  await page.click(selector);
  clicks++;
}
const shot = (file) => page.screenshot({ path: `${shots}/${file}`, fullPage: false });

const t0 = Date.now();
await page.goto(url + '/');
await page.waitForSelector('#login-name');
await page.fill('#login-name', name);
await page.fill('#login-password', password);
await shot('login.png');
await click('#login-submit');
await page.waitForSelector('#app:not([hidden])');

await click('#product button[data-value="warning"]');
await click('#signal button[data-value="rainstorm"]');
await click('#colour button[data-value="orange"]');
for (const code of Object.values(TOWNS)) await click(`[data-town="${code}"]`);
const text = await page.inputValue('#text');
if (!text.includes('杨和镇、明城镇') || !text.includes('发布暴雨橙色预警信号'))
  throw new Error('the template was not filled in: ' + text);
await shot('compose.png');

await click('#preview-button');
await page.waitForSelector('#preview:not([hidden])');
await page.waitForFunction(() => !document.getElementById('publish-button').disabled);
await page.waitForFunction(() => document.getElementById('preview-audio').readyState >= 1);
const audioSeconds = await page.evaluate(() => document.getElementById('preview-audio').duration);
const reading = await page.$$eval('#preview-reading tr', (rows) => rows.map((r) => r.textContent));
if (!reading.length || !reading.join('').includes('bao4 yu3'))
  throw new Error('the preview shows no reading: ' + reading.join(' | '));
await shot('preview.png');

await click('#publish-button');
await page.waitForSelector('#confirm[open]');
await shot('confirm.png');
await click('#confirm-ok');
await page.waitForSelector('#towns [data-town="杨和镇"] .on-air');
const onAir = (Date.now() - t0) / 1000;
const clicksToAir = clicks;
const bulletin = Number(await page.getAttribute('#towns [data-town="杨和镇"] .on-air',
  'data-bulletin'));
await page.waitForTimeout(1500);
await shot('live.png');

// A live announcement to the same towns: the orange warning holds them, so it waits; stopped.
const liveStates = [];
await click('#onair-start');
await page.waitForFunction(() => /等待中|播出中/.test(document.getElementById('onair-state')
  .textContent));
liveStates.push(await page.textContent('#onair-state'));
await shot('onair.png');
await click('#onair-stop');
await page.waitForFunction(() => /已结束/.test(document.getElementById('onair-state').textContent));
liveStates.push(await page.textContent('#onair-state'));
if (!liveStates[0].startsWith('等待中'))
  throw new Error('live during the orange warning did not wait: ' + liveStates.join(' | '));

await click('#tabs button[data-view="warnings"]');
await page.waitForSelector('#warning-towns [data-town="明城镇"] .chip');
await shot('warnings.png');

await click('#tabs button[data-view="today"]');
await page.waitForSelector('#today-list tr[data-slot]');
await shot('today.png');

await click('#tabs button[data-view="cap"]');
await page.waitForSelector('#cap-list [data-refused]');
await shot('cap.png');

// The archive: the broadcast, once over, is what 杨和镇 heard at this minute.
let started = '';
for (let i = 0; i < 240 && !started; i++) {
  started = await page.evaluate(async (id) => {
    const r = await fetch('/v1/history?limit=5', { headers: { Authorization: 'Bearer ' +
      sessionStorage.getItem('cx-token') } });
    const rec = (await r.json()).history.find((x) => x.bulletin === id);
    return rec ? rec.started : '';
  }, bulletin);
  if (!started) await page.waitForTimeout(500);
}
if (!started) throw new Error('bulletin ' + bulletin + ' never reached the archive');
await click('#tabs button[data-view="history"]');
const minute = started.slice(0, 16);
await page.fill('#history-target', '杨和镇');
await page.fill('#history-at', minute);
await click('#history-form button[type="submit"]');
await page.waitForSelector('#history-list [data-record]');
const heard = await page.$$eval('#history-list [data-record]', (r) => r.length);
await click('#history-list [data-record] button');
await page.waitForFunction(() => {
  const a = document.querySelector('#history-list [data-record] audio');
  return a && a.readyState >= 1 && a.duration > 0;
});
await shot('history.png');

await browser.close();
console.log(JSON.stringify({ bulletin, clicks_to_air: clicksToAir, typed_fields: 2, seconds_to_air: onAir,
  clicks_total: clicks, preview_seconds: audioSeconds, heard_records: heard, live: liveStates,
  errors }));
if (errors.length) process.exit(1);
