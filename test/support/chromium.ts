/**
 * The system's Chromium (never a downloaded one) with a throwaway profile, for the web UI's end-to-end tests: one
 * persistent context and its first page, whose errors go to the test's output.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface LaunchedChromium {
  context: BrowserContext;
  page: Page;
  /** The profile's folder: remove it after closing the context. */
  profile: string;
}

export async function launchChromium(): Promise<LaunchedChromium> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1200, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
  return { context, page, profile };
}
