/**
 * The HTML report in a real headless Chromium (Debian's, installed by scripts/ensure-browser.sh
 * from `pretest`): it loads with no console error and no request beyond its own file, shows
 * the rows, filters and sorts them, and hostile strings from the logs execute nothing.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDetections } from '../../src/detect/runner.js';
import { shippedCatalog, shippedSensitiveEvents } from '../../src/cli/detect-command.js';
import { timelineFromStore } from '../../src/report/from-store.js';
import { renderTimelineHtml } from '../../src/report/html-renderer.js';
import type { TimelineReport } from '../../src/report/timeline.js';
import { Store } from '../../src/store/store.js';
import { iamUserIdentity, makeRecord, type EventName } from '../../synth/records.js';
import { Random } from '../../synth/random.js';
import { DEMO_FACTS } from '../../synth/scenario.js';
import { ingest } from '../helpers/store.js';
import { jsonLines, Workspace } from '../helpers/workspace.js';
import { demoStore, PINNED } from '../report/demo-store.js';

const CHROMIUM = process.env['TRAILHOUND_CHROMIUM'] ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) console.warn(`browser test skipped: no Chromium at ${CHROMIUM}; run scripts/ensure-browser.sh (as root) or set TRAILHOUND_CHROMIUM`);

const HOSTILE_IP = '198.18.0.66';
const HOSTILE = [
  '<script>window.__pwned = "script"</script>',
  '<img src=x onerror="window.__pwned = \'img\'">',
  '"><svg onload="window.__pwned = \'svg\'"></svg>',
  '</script><script>window.__pwned = "breakout"</script>',
  '<iframe src="javascript:window.parent.__pwned=\'iframe\'"></iframe>',
];

/** A store where an attacker from HOSTILE_IP creates users and keys with markup in every field it controls. */
async function hostileStore(ws: Workspace): Promise<Store> {
  const rng = new Random('browser-test');
  const identity = iamUserIdentity({ account: DEMO_FACTS.account, userName: 'ci-deploy', accessKeyId: 'AKIAHOSTILE000000001' });
  const names: EventName[] = ['CreateUser', 'CreateAccessKey', 'CreateLoginProfile', 'GetCallerIdentity', 'StopLogging'];
  const records = HOSTILE.flatMap((ua, i) =>
    names.map((name, j) =>
      makeRecord(
        name,
        {
          eventTime: new Date(Date.UTC(2026, 2, 4, 1, i * 5 + j)).toISOString().replace(/\.000Z$/, 'Z'),
          userIdentity: identity,
          sourceIPAddress: HOSTILE_IP,
          userAgent: ua,
          recipientAccountId: DEMO_FACTS.account,
          requestParameters: { userName: `evil${i}${ua}`, name: ua },
        },
        rng,
      ),
    ),
  );
  const store = await Store.open(':memory:');
  await ingest(store, [ws.write('hostile.jsonl', jsonLines(records))]);
  await runDetections(store, shippedCatalog(), { sensitive: shippedSensitiveEvents() });
  return store;
}

interface Loaded {
  readonly page: Page;
  readonly errors: string[];
  readonly requests: string[];
  readonly dialogs: string[];
}

describe.skipIf(!available)('HTML report in headless Chromium', () => {
  let browser: Browser;
  let ws: Workspace;
  let demo: TimelineReport;
  let hostile: TimelineReport;

  beforeAll(async () => {
    ws = new Workspace();
    const demoDb = await demoStore();
    demo = await timelineFromStore(demoDb, { generatedAt: PINNED });
    demoDb.close();
    const hostileDb = await hostileStore(ws);
    hostile = await timelineFromStore(hostileDb, { generatedAt: PINNED, ips: [HOSTILE_IP] });
    hostileDb.close();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    ws?.dispose();
  });

  async function open(report: TimelineReport, name: string): Promise<Loaded> {
    const file = ws.path(name);
    writeFileSync(file, renderTimelineHtml(report));
    const page = await browser.newPage();
    const loaded: Loaded = { page, errors: [], requests: [], dialogs: [] };
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') loaded.errors.push(m.text());
    });
    page.on('pageerror', (e) => loaded.errors.push(e.message));
    page.on('request', (r) => loaded.requests.push(r.url()));
    page.on('dialog', async (d) => {
      loaded.dialogs.push(d.message());
      await d.dismiss();
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForSelector('#timeline tbody tr');
    return loaded;
  }

  const rowCount = (page: Page) => page.locator('#timeline tbody tr').count();

  it('loads the demo with no console error or outside request, and shows every row', async () => {
    const { page, errors, requests, dialogs } = await open(demo, 'demo.html');
    expect(errors).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(requests.every((u) => u.startsWith('file://'))).toBe(true);
    expect(requests).toHaveLength(1);
    // The events behind findings are folded under the first finding that cites each.
    const cited = new Set(demo.entries.filter((e) => e.kind === 'finding').flatMap((e) => e.eventIds));
    const folded = demo.entries.filter((e) => e.kind !== 'finding' && cited.has(e.eventIds[0]!)).length;
    const total = demo.entries.length;
    expect(folded).toBeGreaterThan(0);
    expect(await rowCount(page)).toBe(total - folded);
    expect(await page.locator('#row-count').textContent()).toBe(`${total - folded} of ${total} rows (${folded} events folded under their findings)`);
    // Opening every finding shows every row.
    const closed = page.locator('button.fold[aria-expanded="false"]');
    while ((await closed.count()) > 0) await closed.first().click();
    expect(await rowCount(page)).toBe(total);
    expect(await page.locator('#row-count').textContent()).toBe(`${total} of ${total} rows`);
    // A cell of many event ids shows three, the rest behind a disclosure.
    const many = demo.entries.filter((e) => e.eventIds.length > 3).length;
    expect(await page.locator('#timeline tbody td details').count()).toBe(many);
    const body = await page.locator('body').innerText();
    expect(body).toContain(DEMO_FACTS.leakedKeyId);
    expect(body).toContain(DEMO_FACTS.hostileUserAgents[0]);
    expect(body).toContain('aws:TokenIssueTime');
    expect(await page.locator('#lineage li').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('#activity svg rect').count()).toBeGreaterThan(5);
    // The account snapshot: what still exists, what no event explains, and each plan action's state.
    const now = await page.locator('#now').innerText();
    expect(now).toContain('i-0e5b4d2c1a9f87361');
    expect(now).toMatch(/while logging was stopped/);
    expect(await page.locator('#plan .state-open').count()).toBeGreaterThan(0);
    expect(await page.locator('#plan .state-done').count()).toBeGreaterThan(0);
    await page.close();
  });

  it('keeps a page of thousands of rows usable: 500 at a time, long cells cut with the whole text in the tooltip', async () => {
    const entries = Array.from({ length: 1300 }, (_, i) => ({ ...demo.entries.find((e) => e.kind !== 'finding')!, eventIds: [`bulk-${i}`], time: `2026-03-04T03:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`, userAgent: i === 0 ? `agent ${'x'.repeat(1000)}` : 'aws-cli/2', agentClass: null }));
    const { page, errors } = await open({ ...demo, entries }, 'bulk.html');
    expect(await rowCount(page)).toBe(500);
    await page.locator('#show-more').click();
    expect(await rowCount(page)).toBe(1000);
    expect(await page.locator('#show-more').textContent()).toBe('Show 300 more rows');
    const long = page.locator('#timeline tbody td.ua').first();
    expect(((await long.textContent()) ?? '').length).toBe(300);
    expect(((await long.getAttribute('title')) ?? '').length).toBe(1006);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('filters by text, kind, severity and region, and sorts by a column', async () => {
    const { page, errors } = await open(demo, 'demo-filter.html');
    await page.fill('#filter-text', DEMO_FACTS.createdKeyId);
    const matching = demo.entries.filter((e) => JSON.stringify(e).includes(DEMO_FACTS.createdKeyId)).length;
    expect(await rowCount(page)).toBeGreaterThan(0);
    expect(await rowCount(page)).toBeLessThanOrEqual(matching);
    for (const text of await page.locator('#timeline tbody tr').allInnerTexts()) expect(text).toContain(DEMO_FACTS.createdKeyId);
    await page.fill('#filter-text', '');
    await page.selectOption('#filter-kind', 'finding');
    expect(await rowCount(page)).toBe(demo.findingCount);
    await page.selectOption('#filter-severity', 'critical');
    expect(await rowCount(page)).toBe(demo.entries.filter((e) => e.severity === 'critical').length);
    await page.selectOption('#filter-severity', '');
    await page.selectOption('#filter-kind', '');
    await page.selectOption('#filter-region', 'sa-east-1');
    expect(await rowCount(page)).toBe(demo.entries.filter((e) => e.region === 'sa-east-1').length);
    await page.selectOption('#filter-region', '');
    expect(await page.locator('#timeline th[data-key="time"]').getAttribute('aria-sort')).toBe('ascending');
    await page.click('#timeline th[data-key="time"]');
    expect(await page.locator('#timeline th[data-key="time"]').getAttribute('aria-sort')).toBe('descending');
    const first = await page.locator('#timeline tbody tr td').first().textContent();
    expect(first).toBe(demo.entries.map((e) => e.time).sort().at(-1));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows hostile strings from the logs as text and runs none of them', async () => {
    expect(hostile.entries.some((e) => e.kind === 'finding')).toBe(true);
    const { page, errors, requests, dialogs } = await open(hostile, 'hostile.html');
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(await page.locator('img, iframe, body svg[onload], #timeline svg').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(2);
    const text = await page.locator('#timeline tbody').innerText();
    for (const ua of HOSTILE) expect(text).toContain(ua);
    await page.fill('#filter-text', 'onerror');
    expect(await rowCount(page)).toBeGreaterThan(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('is blocked by its Content-Security-Policy when the inline script is changed', async () => {
    const file = ws.path('tampered.html');
    writeFileSync(file, renderTimelineHtml(demo).replace("'use strict';", "'use strict'; window.__tampered = 1;"));
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => errors.push(m.text()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    expect(await page.evaluate(() => (globalThis as unknown as { __tampered?: unknown }).__tampered)).toBeUndefined();
    expect(await rowCount(page)).toBe(0);
    expect(errors.join('\n')).toMatch(/Content Security Policy/i);
    await page.close();
  });
});
