import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium (scripts/test.sh and .ci/run install it when it is missing). */
const CHROMIUM = '/usr/bin/chromium';

/** What the demo page records of each SDK event (in `window.spidEvents`). */
interface SeenEvent {
  event: string;
  source: string;
}

/** The SDK events the demo page saw, oldest first. */
export const events = (page: Page) =>
  page.evaluate('window.spidEvents.map((e) => ({ event: e.event, source: e.source }))') as Promise<SeenEvent[]>;
export const names = async (page: Page) => (await events(page)).map((e) => e.event);
export const clearEvents = (page: Page) => page.evaluate('window.spidEvents.length = 0');

/** Waits (up to 10 s) until the page saw `event`, from `source` when given. */
export const waitForEvent = (page: Page, event: string, source?: string) =>
  page.waitForFunction(
    ([e, s]) =>
      (globalThis as unknown as { spidEvents: SeenEvent[] }).spidEvents.some((x) => x.event === e && (!s || x.source === s)),
    [event, source] as const,
    { timeout: 10_000 },
  );

/** Makes the page believe it was hidden or shown again, as switching tabs does. */
export const setVisibility = (page: Page, state: 'hidden' | 'visible') =>
  page.evaluate(`Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${state}' });
    document.dispatchEvent(new Event('visibilitychange'))`);

/** Headless Chromium driving the demo app (client `demo-app`) against identity. */
export class DemoBrowser {
  private readonly contexts: BrowserContext[] = [];

  private constructor(
    private readonly browser: Browser,
    private readonly identityUrl: string,
    private readonly demoUrl: string,
  ) {}

  static async launch(identityUrl: string, demoUrl: string): Promise<DemoBrowser> {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (npm test does it as root)`);
    return new DemoBrowser(await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }), identityUrl, demoUrl);
  }

  /** A fresh browser profile: its own cookies, so its own identity session. */
  async newProfile(): Promise<BrowserContext> {
    const context = await this.browser.newContext();
    this.contexts.push(context);
    return context;
  }

  /** Opens the demo page and waits for its first status (or its error). */
  async open(context: BrowserContext, query = '', origin = this.demoUrl): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${origin}/${query}`);
    await page.waitForFunction(
      () => (globalThis as unknown as { spidEvents?: SeenEvent[] }).spidEvents?.some((e) => /sessionInit|error/.test(e.event)),
      undefined,
      { timeout: 10_000 },
    );
    return page;
  }

  /** Signs in through the demo's Log in button and the identity login page; back on the demo page. */
  async logIn(page: Page, user: { email: string; password: string }): Promise<void> {
    await page.click('#login');
    await page.waitForURL(`${this.identityUrl}/**`);
    await page.fill('#email', user.email);
    await page.fill('#password', user.password);
    await page.click('button[type=submit]');
    await page.waitForURL(`${this.demoUrl}/`);
    await waitForEvent(page, 'SPiD.sessionInit');
  }

  /** The identity session as identity itself reports it for this browser profile's cookies. */
  async identitySession(context: BrowserContext): Promise<{ logged_in: boolean; user_id: string | null }> {
    const res = await context.request.get(`${this.identityUrl}/api/2/session?client_id=demo-app`);
    expect(res.status()).toBe(200);
    return (await res.json()) as { logged_in: boolean; user_id: string | null };
  }

  async close(): Promise<void> {
    for (const context of this.contexts) await context.close();
    await this.browser.close();
  }
}
