import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

// What the browser suites share: Debian's Chromium with the flags DEVELOPERS.md names (never a downloaded browser),
// and the check each page passes — axe-core finds no serious or critical violation — before its screenshot is saved
// in test-artifacts/console/ (docs/console.md shows them).

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_MISSING = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (.ci/run installs it)`;
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/console/', import.meta.url));
const AXE = join(createRequire(import.meta.url).resolve('axe-core'), '..', 'axe.min.js');

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

/** axe-core on the page as it is: no serious or critical violation; then a full-page screenshot named `name`. */
export async function checkAccessibility(page: Page, name: string): Promise<void> {
  await page.addScriptTag({ path: AXE });
  const result = (await page.evaluate('axe.run()')) as {
    violations: { id: string; impact: string; help: string; nodes: { target: unknown }[] }[];
  };
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`),
    [],
    `${name}: serious accessibility violations`,
  );
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
