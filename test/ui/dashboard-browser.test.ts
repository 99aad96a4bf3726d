import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { createAdminToken } from '../../src/identity/admin-tokens.js';
import { findFreePort } from '../../src/lib/free-port.js';
import {
  createTeam,
  createUser,
  pushManifest,
  registerAgent,
  reviewAgent,
} from '../../src/registry/index.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { DASHBOARD_ASSETS } from '../../src/server/ui/register-dashboard.js';

const CHROMIUM = '/usr/bin/chromium';
const SETUP = 'test:setup';
const XSS = '<img src=x onerror=alert(1)>';
const SCREENSHOTS = resolve('test-output/screenshots');
const RULES = `
rules:
  - { id: allow-reads, tool: "files.read_*", effect: allow }
  - { id: flag-search, tool: "web.search", effect: flag }
  - { id: no-upload, tool: "web.upload", effect: deny }
`;

const manifest = (tools: string[]) => ({
  description: 'research assistant',
  tools,
  egressHosts: [],
  llmProviders: [],
  dataClasses: [],
});

describe.skipIf(!existsSync(CHROMIUM))('dashboard in Chromium', () => {
  let root: string;
  let server: RunningServer;
  let browser: Browser;
  let adminToken: string;
  let approverToken: string;
  let helperId: string;
  let sessionId: string;
  const dialogs: string[] = [];

  beforeAll(async () => {
    // `npm ci` runs `prepare` -> build; build the web app here too when the assets are missing.
    if (!existsSync(join(DASHBOARD_ASSETS, 'index.html'))) {
      execFileSync(process.execPath, [
        resolve('node_modules/vite/bin/vite.js'),
        'build',
        'web',
        '--logLevel',
        'warn',
      ]);
    }
    await mkdir(SCREENSHOTS, { recursive: true });
    root = await mkdtemp(join(tmpdir(), 'gatehouse-ui-'));
    const port = await findFreePort();
    const config = parseConfig({
      dataDir: join(root, 'data'),
      masterKey: randomBytes(32).toString('base64'),
      server: { port, publicUrl: `http://127.0.0.1:${port}`, logLevel: 'silent' },
    });
    server = await startServer(config);
    const { gatehouse } = server;
    await createTeam(gatehouse, SETUP, { name: 'research' });
    await createTeam(gatehouse, SETUP, { name: 'finance' });
    await createUser(gatehouse, SETUP, { email: 'sponsor@example.com', teams: ['research', 'finance'] });
    await createUser(gatehouse, SETUP, { email: 'reviewer@example.com' });
    const helper = await registerAgent(gatehouse, SETUP, {
      name: 'helper',
      team: 'research',
      sponsor: 'sponsor@example.com',
      manifest: manifest(['files.read_file']),
    });
    helperId = helper.agent.id;
    await pushManifest(gatehouse, SETUP, helperId, manifest(['files.read_file', 'web.search', 'web.upload']));
    await reviewAgent(gatehouse, { actor: SETUP, userId: null }, helperId, {
      decision: 'approve',
      reviewer: 'reviewer@example.com',
    });
    await registerAgent(gatehouse, SETUP, {
      name: 'xss-probe',
      team: 'finance',
      sponsor: 'sponsor@example.com',
      description: XSS,
    });
    await registerAgent(gatehouse, SETUP, {
      name: 'ledger-bot',
      team: 'finance',
      sponsor: 'sponsor@example.com',
    });

    await gatehouse.policies.publish([{ name: 'rules.yaml', text: RULES }], { actor: SETUP, activate: true });
    const session = await gatehouse.sessions.start({
      agentId: helperId,
      scope: { customer: XSS },
      user: { id: 'usr_alice', email: 'alice@example.com' },
    });
    sessionId = session.id;
    const principal = { id: helperId, name: 'helper', team: 'research', review: 'approved' };
    for (const tool of ['files.read_file', 'web.search', 'web.upload']) {
      await gatehouse.sessions.decide({ sessionId, principal, call: { tool, args: { q: XSS } } });
    }

    const bootstrap = { actor: SETUP, role: 'admin' as const, userId: null };
    adminToken = (await createAdminToken(gatehouse, bootstrap, { role: 'admin' })).secret;
    approverToken = (await createAdminToken(gatehouse, bootstrap, { role: 'approver' })).secret;

    // playwright-core gives every launch() a fresh temporary --user-data-dir of its own (it refuses the flag).
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function signedIn(token: string, viewport = { width: 1280, height: 900 }) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    // Fail with the step that broke, well inside the test's own time limit.
    page.setDefaultTimeout(8000);
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${server.url}/ui/`);
    await page.getByLabel('Admin token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('role').waitFor();
    return { context, page };
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  it('signs in, shows the inventory and an agent, and suspends it as admin', async () => {
    const signIn = await browser.newPage();
    await signIn.goto(`${server.url}/ui/`);
    await signIn.getByLabel('Admin token').fill('gha_wrong');
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await expect(signIn.getByRole('alert').textContent()).resolves.toContain('not accepted');
    await shot(signIn, 'sign-in');
    await signIn.close();

    const { context, page } = await signedIn(adminToken);
    const summary = page.getByTestId('summary');
    await summary.getByText('3 agents — 1 approved, 2 unreviewed, 0 rejected').waitFor();
    for (const name of ['helper', 'xss-probe', 'ledger-bot'])
      await page.getByRole('link', { name }).waitFor();
    await page.getByLabel('Team').selectOption('finance');
    await page.getByRole('link', { name: 'ledger-bot' }).waitFor();
    await expect(page.getByRole('link', { name: 'helper' }).count()).resolves.toBe(0);
    await page.getByLabel('Team').selectOption('');
    await page.getByRole('link', { name: 'helper' }).waitFor();
    await shot(page, 'inventory');

    await page.getByRole('link', { name: 'helper' }).click();
    await page.getByTestId('agent-name').getByText('helper').waitFor();
    await page.getByText('v1 → v2').waitFor();
    await page.getByText('+web.upload').waitFor();
    await page.getByRole('link', { name: sessionId }).waitFor();
    await page.getByLabel('Reason').fill('investigating');
    await page.getByRole('button', { name: 'Suspend' }).click();
    await page.getByTestId('agent-state').getByText('suspended').waitFor();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    await shot(page, 'agent');
    await context.close();
  });

  it('refuses a state change that carries the cookie but not the CSRF token', async () => {
    const { context } = await signedIn(adminToken);
    // The context's request client sends the session cookie, but only the page knows the CSRF token.
    const response = await context.request.post(`${server.url}/admin/v1/agents/${helperId}/resume`, {
      data: {},
    });
    expect(response.status()).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'csrf_token_invalid' });
    await context.close();
  });

  it('shows no suspend button to a read-only role, and the API refuses it anyway', async () => {
    const { context, page } = await signedIn(approverToken, { width: 390, height: 844 });
    await expect(page.getByTestId('role').textContent()).resolves.toBe('approver');
    await page.goto(`${server.url}/ui/#/agents/${helperId}`);
    await page.getByTestId('agent-name').waitFor();
    await page.getByText('Manifest versions').waitFor();
    await expect(page.getByRole('button', { name: /Suspend|Resume/ }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
    await shot(page, 'agent-read-only-narrow');
    const csrf = await page.evaluate(async () => {
      const response = await fetch('/ui/session');
      return ((await response.json()) as { csrfToken: string }).csrfToken;
    });
    const response = await context.request.post(`${server.url}/admin/v1/agents/${helperId}/resume`, {
      data: {},
      headers: { 'x-csrf-token': csrf },
    });
    expect(response.status()).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'forbidden' });
    await context.close();
  });

  it('renders script in a description, scope and arguments as text, never running it', async () => {
    const { context, page } = await signedIn(adminToken);
    await page.goto(`${server.url}/ui/#/`);
    await page.getByRole('link', { name: 'xss-probe' }).click();
    await page.getByText(XSS, { exact: true }).waitFor();
    await expect(page.locator('main img').count()).resolves.toBe(0);
    await shot(page, 'agent-script-as-text');
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it('shows a session timeline with denied and flagged calls highlighted, and its call graph', async () => {
    const { context, page } = await signedIn(adminToken);
    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.getByRole('link', { name: sessionId }).click();
    const timeline = page.getByTestId('timeline');
    await timeline.waitFor();
    await expect(timeline.locator('li').count()).resolves.toBe(3);
    await expect(timeline.locator('li.call-deny').textContent()).resolves.toContain('web.upload');
    await expect(timeline.locator('li.call-flag').textContent()).resolves.toContain('web.search');
    await page.getByText(JSON.stringify({ customer: XSS })).waitFor();
    await page.getByTestId('call-graph').locator('canvas').first().waitFor();
    await shot(page, 'session');
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it('shows the audit log, filters it, and verifies the chain', async () => {
    const { context, page } = await signedIn(adminToken);
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.locator('table.audit td', { hasText: 'agent.registered' }).first().waitFor();
    await page.getByRole('searchbox').fill('ledger-bot');
    await expect(page.locator('table.audit tbody tr').count()).resolves.toBeGreaterThan(0);
    await page.getByRole('searchbox').fill('');
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await page
      .getByTestId('verify-result')
      .getByText(/Chain intact/)
      .waitFor();
    await shot(page, 'audit');
    await context.close();
  });

  it('shows the approvals queue (or says it is not available)', async () => {
    const { context, page } = await signedIn(adminToken);
    await page.getByRole('link', { name: 'Approvals' }).click();
    await page.getByRole('heading', { name: 'Approvals' }).waitFor();
    await page.locator('[data-testid="approvals-unavailable"], h2:text("Pending")').first().waitFor();
    await shot(page, 'approvals');
    await context.close();
  });

  it('signs out: the old cookie no longer works', async () => {
    const { context, page } = await signedIn(adminToken);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'gatehouse_session', httpOnly: true, sameSite: 'Strict' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    const response = await fetch(`${server.url}/admin/v1/agents`, {
      headers: { cookie: `${cookie?.name}=${cookie?.value}` },
    });
    expect(response.status).toBe(401);
    await context.close();
  });
});
