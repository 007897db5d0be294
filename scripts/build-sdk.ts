/**
 * Builds the browser SDK (libs/sdk-browser) into dist/sdk, which identity serves at /sdk/:
 *   spid.js     script-tag build, defines window.SPiD
 *   spid.mjs    ES module (default export SPiD)
 *   spid.d.ts   type declarations for both
 *   manifest.json  version, and per file its content-hashed name and SRI integrity
 * Usage: npm run build:sdk [-- <outDir>]
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';

const ROOT = resolve(__dirname, '..');
const SRC = join(ROOT, 'libs/sdk-browser/src');
export const DEFAULT_SDK_DIR = join(ROOT, 'dist/sdk');

export interface SdkManifest {
  version: string;
  files: Record<string, { hashed: string; integrity: string; bytes: number; contentType: string }>;
}

const CONTENT_TYPES: Record<string, string> = {
  'spid.js': 'text/javascript; charset=utf-8',
  'spid.mjs': 'text/javascript; charset=utf-8',
  'spid.d.ts': 'application/typescript; charset=utf-8',
};

/** What the ES module exports and the script tag defines, on top of the public types. */
const DECLARATION_TAIL = `
/** The shared SDK instance: the ES module's default export, and window.SPiD for the script tag. */
declare const SPiD: SPiDApi;
export default SPiD;
export { SPiD };
/** A separate SDK instance with its own settings and subscribers. */
export declare function createSPiD(): SPiDApi;
declare global {
  interface Window {
    SPiD: SPiDApi;
  }
}
`;

export async function buildSdk(outDir = DEFAULT_SDK_DIR): Promise<SdkManifest> {
  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const common = {
    bundle: true,
    minify: true,
    write: false,
    legalComments: 'none' as const,
    target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
    define: { __SPID_VERSION__: JSON.stringify(version) },
    tsconfig: join(ROOT, 'libs/sdk-browser/tsconfig.json'),
  };
  const [script, module] = await Promise.all([
    build({ ...common, entryPoints: [join(SRC, 'global.ts')], format: 'iife' }),
    build({ ...common, entryPoints: [join(SRC, 'index.ts')], format: 'esm' }),
  ]);
  const outputs: Record<string, string> = {
    'spid.js': banner(version) + script.outputFiles![0].text,
    'spid.mjs': banner(version) + module.outputFiles![0].text,
    'spid.d.ts': banner(version) + declarations() + DECLARATION_TAIL,
  };
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const manifest: SdkManifest = { version, files: {} };
  for (const [name, text] of Object.entries(outputs)) {
    const bytes = Buffer.from(text);
    const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
    const hashed = name.replace(/^spid\./, `spid-${hash}.`);
    const integrity = `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
    await writeFile(join(outDir, name), bytes);
    manifest.files[name] = { hashed, integrity, bytes: bytes.length, contentType: CONTENT_TYPES[name] };
  }
  await writeFile(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

const banner = (version: string) => `/*! SPiD browser SDK ${version} (SLO Coordinator) */\n`;

/** The declarations of types.ts (self-contained by design), emitted in memory. */
function declarations(): string {
  const file = join(SRC, 'types.ts');
  let text = '';
  const program = ts.createProgram([file], {
    declaration: true,
    emitDeclarationOnly: true,
    removeComments: false,
    lib: ['lib.es2020.d.ts'],
    strict: true,
  });
  const result = program.emit(program.getSourceFile(file), (_name, data) => (text = data));
  const problems = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  if (problems.length || !text) {
    throw new Error(`spid.d.ts: ${ts.formatDiagnostics(problems, ts.createCompilerHost({})) || 'nothing emitted'}`);
  }
  return text;
}

if (require.main === module) {
  buildSdk(process.argv[2] ? resolve(process.argv[2]) : undefined).then(
    (m) =>
      console.log(
        `SDK ${m.version} built: ${Object.values(m.files)
          .map((f) => `${f.hashed} (${f.bytes} B)`)
          .join(', ')}`,
      ),
    (err: Error) => {
      console.error(`SDK build failed: ${err.message}`);
      process.exit(1);
    },
  );
}
