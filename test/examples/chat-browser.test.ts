/**
 * Example (4) in a real browser: two Chromium pages on the chat, a message typed in one appears in
 * the other. Uses Debian's chromium (`apt-get install chromium`) through playwright-core, and is
 * skipped, saying so, where /usr/bin/chromium is absent.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChatServer, startChatServer } from '../../examples/chat-server.ts';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));

if (!available) {
  console.warn(`chat-browser.test.ts skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);
}

describe.skipIf(!available)('chat example in Chromium', () => {
  let chat: ChatServer | null = null;
  const userDataDir = mkdtempSync(join(tmpdir(), 'sockwire-chromium-'));
  afterAll(async () => {
    await chat?.close();
    rmSync(userDataDir, { recursive: true, force: true });
  });

  it('a message typed in one page appears in the other', { timeout: 60_000 }, async () => {
    const { chromium } = await import('playwright-core');
    chat = await startChatServer(0);
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking'],
      viewport: { width: 800, height: 600 },
    });
    try {
      const [alice, bob] = [await context.newPage(), await context.newPage()];
      for (const page of [alice, bob]) {
        await page.goto(chat.url);
        await page.locator('#status.open').waitFor({ timeout: 10_000 });
      }
      await alice.locator('#message').fill('Hello from the first tab');
      await alice.locator('#message').press('Enter');
      const line = bob.locator('#log li', { hasText: 'Hello from the first tab' });
      await line.waitFor({ timeout: 10_000 });
      expect(await line.textContent()).toMatch(/^guest \d+: Hello from the first tab$/);
      await bob.locator('#message').fill('And hello back from the second');
      await bob.locator('#message').press('Enter');
      await alice.locator('#log li', { hasText: 'hello back' }).waitFor({ timeout: 10_000 });
      mkdirSync(OUTPUT, { recursive: true });
      await bob.screenshot({ path: join(OUTPUT, 'chat.png') });
      expect(existsSync(join(OUTPUT, 'chat.png'))).toBe(true);
    } finally {
      await context.close();
    }
  });
});
