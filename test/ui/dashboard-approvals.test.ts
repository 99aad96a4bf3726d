import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_ASSETS } from '../../src/server/ui/register-dashboard.js';
import { type ApprovalFixture, startApprovalFixture } from '../approvals/approval-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = resolve('test-output/screenshots');
const XSS = '<script>alert(1)</script>';
const POLICY = `
rules:
  - { id: echo-needs-one, tool: everything.echo, effect: approve, reason: echoes need a person }
`;

describe.skipIf(!existsSync(CHROMIUM))('approvals queue in Chromium', () => {
  let fixture: ApprovalFixture;
  let browser: Browser;
  const dialogs: string[] = [];

  beforeAll(async () => {
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
    fixture = await startApprovalFixture(POLICY);
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
    await fixture?.close();
  });

  it('a waiting agent call completes after an approver approves it in the browser', async () => {
    const client = await fixture.connect();
    const call = client.callTool(
      { name: 'everything.echo', arguments: { message: `hello ${XSS}`, apiKey: 'sk-secret-1' } },
      undefined,
      { timeout: 30_000, onprogress: () => {}, resetTimeoutOnProgress: true },
    );

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(8000);
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${fixture.url}/ui/#/approvals`);
    await page.getByLabel('Admin token').fill(fixture.tokens.alice);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const card = page.getByTestId('approval').filter({ hasText: 'everything.echo' }).first();
    await card.waitFor();
    await card.getByText(`hello ${XSS}`).waitFor();
    await expect(card.textContent()).resolves.toContain('[redacted]');
    await expect(card.textContent()).resolves.not.toContain('sk-secret-1');
    await expect(card.textContent()).resolves.toContain('echoes need a person');
    await page.screenshot({ path: join(SCREENSHOTS, 'approvals-pending.png'), fullPage: true });

    await card.getByLabel('Reason').fill('looked at the message');
    await card.getByRole('button', { name: 'Approve' }).click();

    const result = (await call) as { content: { type: string; text?: string }[] };
    expect(result.content.map((part) => part.text ?? '').join('')).toContain('hello');
    await page.getByText('Nothing is waiting for approval.').waitFor();
    await page.getByText('“looked at the message”').first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'approvals-resolved.png'), fullPage: true });
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it('shows a new request live, and the sponsor approving is refused in words', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    page.setDefaultTimeout(8000);
    await page.goto(`${fixture.url}/ui/#/approvals`);
    await page.getByLabel('Admin token').fill(fixture.tokens.sponsor);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Pending' }).waitFor();

    const client = await fixture.connect();
    const call = client
      .callTool({ name: 'everything.echo', arguments: { message: 'live one' } }, undefined, {
        timeout: 30_000,
      })
      .catch((error: unknown) => error);
    const card = page.getByTestId('approval').filter({ hasText: 'live one' });
    await card.waitFor();
    await card.getByLabel('Reason').fill('my own agent');
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.getByRole('alert').waitFor();
    await expect(card.getByRole('alert').textContent()).resolves.toMatch(/sponsor/);
    await page.screenshot({ path: join(SCREENSHOTS, 'approvals-sponsor-refused.png'), fullPage: true });

    const pending = await fixture.admin(fixture.tokens.bob, 'GET', '/approvals?state=pending');
    const id = pending.body.approvals.find((approval) => approval.arguments.message === 'live one')?.id;
    await fixture.admin(fixture.tokens.bob, 'POST', `/approvals/${id}/deny`, { reason: 'not now' });
    await call;
    await context.close();
  });
});
