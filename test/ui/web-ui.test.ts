/**
 * The web UI in Chromium, walked as a new user would: sign in with a token, search "patient", open
 * clinical.patients (PHI and mask badges, the lineage graph), follow a downstream table, open its
 * task, run a query in the editor (masked values as the analyst, clear as the clinician, through a
 * shared link), download the result as CSV, the health overview, sign out. The UI is served by
 * the real HTTP API over the served healthcare example. Each page's screenshot is written to
 * docs/screenshots/ (the README shows them); navigation timings are printed, not asserted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startHttpApi } from '../../src/server/http/index.ts';
import { openServedExample, type ServedExample } from '../support/served-example.ts';
import { requireService } from '../support/services.ts';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
const LAUNCH_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const MASKED_QUERY =
  'SELECT patient_id, ssn, birth_date, state FROM clinical.patients ORDER BY patient_id LIMIT 25';

const COUNT_QUERY = 'SELECT state, count(*) AS patients FROM clinical.patients GROUP BY ALL ORDER BY 1';

const service = await requireService(`Chromium at ${CHROMIUM}`, () => access(CHROMIUM, constants.X_OK));

/** Milliseconds from an action to the moment `ready` resolves: printed, never asserted. */
async function timed(
  label: string,
  action: () => Promise<unknown>,
  ready: () => Promise<unknown>,
): Promise<void> {
  const started = performance.now();
  await action();
  await ready();
  console.log(`navigation timing: ${label} ${Math.round(performance.now() - started)} ms`);
}

async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage, animations: 'disabled' });
}

async function signIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(base + '/');
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** Replace the editor's SQL (typed as one insertion, so completion does not rewrite it). */
async function setSql(page: Page, sql: string): Promise<void> {
  const editor = page.getByRole('textbox', { name: 'SQL' });
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(sql);
}

/** The grid's cells in one column, by its header's position. */
async function columnValues(page: Page, column: string): Promise<string[]> {
  const grid = page.getByRole('grid', { name: 'Query results' });
  const headers = await grid.getByRole('columnheader').allTextContents();
  const index = headers.findIndex((text) => text.startsWith(column + ' ') || text === column);
  assert.ok(index >= 0, `no column ${column} in ${headers.join(', ')}`);
  const rows = grid.getByRole('row');
  const values: string[] = [];
  for (const row of (await rows.all()).slice(1))
    values.push((await row.getByRole('gridcell').nth(index).textContent()) ?? '');
  return values;
}

describe('the web UI in Chromium', { skip: service.skip }, () => {
  let example: ServedExample;
  let server: { port: number; close(): Promise<void> };
  let browser: Browser;
  let analyst: BrowserContext;
  let page: Page;
  let base: string;
  let downloads: string;

  before(async () => {
    if (!existsSync(join(ROOT, 'ui', 'dist', 'index.html'))) {
      const built = spawnSync('npm', ['run', 'build:ui'], { cwd: ROOT, stdio: 'inherit' });
      assert.equal(built.status, 0, 'npm run build:ui failed');
    }
    await mkdir(SCREENSHOTS, { recursive: true });
    downloads = await mkdtemp(join(tmpdir(), 'tessera-ui-downloads-'));
    [example, browser] = await Promise.all([
      openServedExample(),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_FLAGS }),
    ]);
    server = await startHttpApi(example.handle, { host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${server.port}`;
    analyst = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    analyst.setDefaultTimeout(10_000);
    page = await analyst.newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await example?.close();
    if (downloads) await rm(downloads, { recursive: true, force: true });
  });

  test('a new user signs in with a token; a wrong one is refused with how to get one', async () => {
    await timed(
      'sign-in page (first load)',
      () => page.goto(base + '/'),
      () => page.getByLabel('Token').waitFor(),
    );
    const entry = await page.evaluate(() => {
      const [navigation] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
      return navigation ? Math.round(navigation.loadEventEnd - navigation.startTime) : -1;
    });
    console.log(`navigation timing: sign-in page load event ${entry} ms`);
    await screenshot(page, 'sign-in');
    await page.getByLabel('Token').fill('tsr_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /token is unknown, expired or revoked/);
    await page.getByLabel('Token').fill(example.tokens.analyst);
    await timed(
      'sign in → search',
      () => page.getByRole('button', { name: 'Sign in' }).click(),
      () => page.getByRole('searchbox', { name: 'Search tables' }).waitFor(),
    );
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tessera.token')), example.tokens.analyst);
  });

  test('search "patient" lists the tables the analyst may read, each a link named by the table', async () => {
    await page.getByRole('searchbox', { name: 'Search tables' }).fill('patient');
    const results = page.getByRole('list', { name: 'Search results' });
    await results.getByRole('link', { name: 'clinical.patients' }).waitFor();
    const names = await results.getByRole('link').allTextContents();
    assert.ok(names.includes('analytics.patient_summary'), names.join(', '));
    // clinical.providers is granted to no role of the analyst's: absent, whatever the search.
    await page.getByRole('searchbox', { name: 'Search tables' }).fill('');
    await results.getByRole('link', { name: 'clinical.patients' }).waitFor();
    assert.ok(!(await results.getByRole('link').allTextContents()).includes('clinical.providers'));
    await page.getByLabel('Sensitivity').selectOption('PHI');
    const phi = await results.getByRole('link').allTextContents();
    assert.ok(phi.includes('clinical.patients') && !phi.includes('analytics.state_summary'), phi.join(', '));
    await page.getByLabel('Sensitivity').selectOption('');
    await page.getByRole('searchbox', { name: 'Search tables' }).fill('patient');
    await screenshot(page, 'search');
  });

  test('clinical.patients shows PHI with its masks, no denied column, the lineage graph and masked rows', async () => {
    await timed(
      'search → table page',
      () => page.getByRole('link', { name: 'clinical.patients' }).click(),
      () => page.getByRole('table', { name: 'Sample rows' }).waitFor(),
    );
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'clinical.patients');
    const schema = page.getByRole('table', { name: 'Schema' });
    const ssn = schema.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'ssn' }) });
    const ssnText = (await ssn.textContent()) ?? '';
    assert.match(ssnText, /PHI/);
    assert.match(ssnText, /HASH/);
    assert.equal(
      await schema.getByRole('rowheader', { name: 'last_name' }).count(),
      0,
      'last_name is denied',
    );
    const graph = page.getByRole('figure', { name: 'Lineage graph of clinical.patients' });
    await graph.locator('.react-flow__node').first().waitFor();
    const nodes = await graph.locator('.react-flow__node').allTextContents();
    assert.deepEqual(nodes.sort(), [
      'analytics.patient_summary',
      'analytics.state_summary',
      'clinical.patients',
    ]);
    const sample = page.getByRole('table', { name: 'Sample rows' });
    const firstSsn = await sample.getByRole('row').nth(1).getByRole('cell').nth(1).textContent();
    assert.match(firstSsn ?? '', /^[0-9a-f]{64}$/, 'the analyst reads ssn hashed');
    await screenshot(page, 'table', true);
  });

  test('a downstream table is a link away, and a graph node opens its table too', async () => {
    const downstream = page.getByRole('navigation', { name: 'Downstream tables' });
    await timed(
      'table → downstream table',
      () => downstream.getByRole('link', { name: 'analytics.patient_summary' }).click(),
      () => page.getByRole('heading', { level: 1, name: 'analytics.patient_summary' }).waitFor(),
    );
    const upstream = await page
      .getByRole('navigation', { name: 'Upstream tables' })
      .getByRole('link')
      .allTextContents();
    assert.ok(upstream.includes('clinical.patients'), upstream.join(', '));
    const graph = page.getByRole('figure', { name: 'Lineage graph of analytics.patient_summary' });
    await graph.locator('.react-flow__node', { hasText: 'analytics.state_summary' }).click();
    await page.getByRole('heading', { level: 1, name: 'analytics.state_summary' }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'analytics.patient_summary' }).waitFor();
  });

  test("the task page shows runs and logs; its owner's member may rerun it", async () => {
    await timed(
      'table → task page',
      () => page.getByRole('link', { name: 'build_patient_summary' }).first().click(),
      () => page.getByRole('table', { name: 'Runs' }).waitFor(),
    );
    const runs = page.getByRole('table', { name: 'Runs' });
    assert.match((await runs.getByRole('row').nth(1).textContent()) ?? '', /succeeded/);
    await runs
      .getByRole('button', { name: /Show logs/ })
      .first()
      .click();
    const logs = await page.getByLabel(/^Logs of run /).textContent();
    assert.ok((logs ?? '').length > 0, 'the run has log lines');
    // bob@example.org is a member of analytics, the owner of analytics.patient_summary.
    await page.getByRole('button', { name: 'Rerun' }).click();
    await page.getByRole('status').filter({ hasText: 'Rerun: done' }).waitFor();
    await runs.getByRole('row').filter({ hasText: 'manual' }).first().waitFor();
    await screenshot(page, 'task', true);
    // clinical.patients belongs to clinical-data, of which bob is not a member: no buttons, the reason.
    await page.goto(base + '/#/tasks/ingest_patients');
    await page.getByText(/only members of clinical-data/).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Rerun' }).count(), 0);
  });

  test('the editor completes visible tables, runs on Ctrl-Enter, and the analyst reads masked rows', async () => {
    await timed(
      'editor (loads CodeMirror)',
      () => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'SQL editor' }).click(),
      () => page.getByRole('textbox', { name: 'SQL' }).waitFor(),
    );
    await setSql(page, 'SELECT * FROM clinical.');
    await page.keyboard.press('Control+Space');
    const completions = page.getByRole('listbox');
    await completions.getByRole('option', { name: /^patients/ }).waitFor();
    assert.equal(await completions.getByRole('option', { name: /^providers/ }).count(), 0);
    await page.keyboard.press('Escape');
    await setSql(page, COUNT_QUERY);
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByRole('grid', { name: 'Query results' }).getByRole('gridcell').first().waitFor();
    await page.getByRole('tab', { name: 'Chart' }).click();
    const chart = page.getByRole('img', { name: 'bar chart of patients by state' });
    await chart.waitFor();
    assert.ok((await chart.locator('rect').count()) >= 1, 'one bar per state');
    await screenshot(page, 'chart');
    await page.getByRole('tab', { name: 'Grid' }).click();
    await setSql(page, MASKED_QUERY);
    await timed(
      'Ctrl-Enter → results',
      () => page.keyboard.press('Control+Enter'),
      () =>
        page
          .getByRole('grid', { name: 'Query results' })
          .getByRole('columnheader', { name: /^ssn/ })
          .waitFor(),
    );
    const ssns = await columnValues(page, 'ssn');
    assert.ok(ssns.length > 0);
    for (const value of ssns) assert.match(value, /^[0-9a-f]{64}$/);
    for (const state of await columnValues(page, 'state')) assert.equal(state, 'CA');
    assert.equal(
      new URL(page.url()).hash,
      '#/query?' + new URLSearchParams({ sql: MASKED_QUERY }).toString(),
      'the link holds the SQL',
    );
    await screenshot(page, 'editor');
    const history = await page.getByRole('list', { name: 'Query history' }).textContent();
    assert.match(history ?? '', /clinical\.patients ORDER BY patient_id/);
  });

  test('Download CSV saves the result as the analyst read it', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const file = join(downloads, download.suggestedFilename());
    await download.saveAs(file);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\r\n');
    assert.equal(lines[0], 'patient_id,ssn,birth_date,state');
    assert.equal(lines.length - 1, (await columnValues(page, 'ssn')).length);
    for (const line of lines.slice(1)) assert.match(line, /^P\d+,[0-9a-f]{64},[^,]*,CA$/);
  });

  test('the clinician opens the shared link and reads the same rows in clear', async () => {
    const clinician = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const other = await clinician.newPage();
      await signIn(other, base, example.tokens.clinician);
      await other.goto(`${base}/#/query?${new URLSearchParams({ sql: MASKED_QUERY })}`);
      await other.getByRole('button', { name: 'Run' }).click();
      await other.getByRole('grid', { name: 'Query results' }).getByRole('gridcell').first().waitFor();
      const ssns = await columnValues(other, 'ssn');
      assert.ok(ssns.length > 0);
      for (const value of ssns) assert.match(value, /^\d{3}-\d{2}-\d{4}$/);
      const states = new Set(await columnValues(other, 'state'));
      assert.ok(states.size > 1, 'no row filter for the clinician');
    } finally {
      await clinician.close();
    }
  });

  test('the health overview lists every visible table by state; sign out forgets the token', async () => {
    await timed(
      'health overview',
      () => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Health' }).click(),
      () => page.getByRole('list', { name: 'Every table tables' }).waitFor(),
    );
    const tables = await page
      .getByRole('list', { name: 'Every table tables' })
      .getByRole('link')
      .allTextContents();
    assert.ok(
      tables.includes('clinical.patients') && !tables.includes('clinical.providers'),
      tables.join(', '),
    );
    await page.getByRole('heading', { name: /^Open incidents/ }).waitFor();
    await screenshot(page, 'health', true);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tessera.token')), null);
  });

  test('a visitor with no grants signs in and finds nothing', async () => {
    await signIn(page, base, example.tokens.visitor);
    await page.getByRole('status').filter({ hasText: '0 tables' }).waitFor();
    assert.equal(await page.getByRole('list', { name: 'Search results' }).getByRole('link').count(), 0);
  });
});
