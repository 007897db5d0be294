import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';
import { buildSdk, SdkManifest } from './build-sdk';

/** The published spid.d.ts, checked the way a customer's TypeScript project would use it. */
describe('SDK build', () => {
  let dir: string;
  let manifest: SdkManifest;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spid-sdk-'));
    manifest = await buildSdk(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function typeErrors(source: string): Promise<string[]> {
    const file = join(dir, 'consumer.ts');
    await writeFile(file, source);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      lib: ['lib.es2020.d.ts', 'lib.dom.d.ts'],
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      types: [],
    });
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  }

  it('writes the script, the module and the types, each with a content-hashed name and an SRI hash', async () => {
    expect(Object.keys(manifest.files).sort()).toEqual(['spid.d.ts', 'spid.js', 'spid.mjs']);
    for (const [name, file] of Object.entries(manifest.files)) {
      expect(file.hashed).toMatch(/^spid-[0-9a-f]{12}\.(js|mjs|d\.ts)$/);
      expect(file.integrity).toMatch(/^sha384-[A-Za-z0-9+/]{64}$/);
      expect((await readFile(join(dir, name))).length).toBe(file.bytes);
    }
    expect(await readFile(join(dir, 'spid.js'), 'utf8')).toContain(`SPiD browser SDK ${manifest.version}`);
  });

  it('types an ES-module consumer and a script-tag consumer, and rejects misuse', async () => {
    expect(
      await typeErrors(`import SPiD, { type SdkEvent, type SessionStatus } from './spid';
        const status: Promise<SessionStatus> = SPiD.init({ server: 'https://id.example.com', client_id: 'app' });
        SPiD.event.subscribe('SPiD.logout', (e: SdkEvent) => console.log(e.previous?.user_id, e.source));
        window.SPiD.logout((err, result) => console.log(err?.message, result?.event_id));
        const url: string = SPiD.logoutUrl('https://app.example.com/');
        void status; void url;`),
    ).toEqual([]);
    const misuse = await typeErrors(`import SPiD from './spid';
      SPiD.event.subscribe('SPiD.loggedOut', () => undefined);
      SPiD.init({ server: 'https://id.example.com' });`);
    expect(misuse).toHaveLength(2);
    expect(misuse.join('\n')).toMatch(/SPiD\.loggedOut/);
    expect(misuse.join('\n')).toMatch(/client_id/);
  });
});
