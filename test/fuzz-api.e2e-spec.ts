import { OpenApiDoc, operations } from './support/fuzz-openapi';
import { seededRandom } from './support/fuzz';
import { apiRequests } from './support/fuzz-api';
import { report, runAll } from './support/fuzz-run';
import { FuzzStack, SEED, startFuzzStack } from './support/fuzz-stack';

/**
 * Hostile input against every operation of the api's OpenAPI document: control characters, broken
 * Unicode, over-long strings, wrong types, bad dates, UUIDs and cursors, deep and huge JSON, garbage
 * compression, wrong content types and bad percent-encoding; with an admin server token and without.
 * No answer may be a 5xx, and every 4xx names its problem (identity: fuzz-identity.e2e-spec.ts).
 */
describe('hostile input to the api: no 5xx, every refusal names its problem', () => {
  let fuzz: FuzzStack;

  beforeAll(async () => {
    fuzz = await startFuzzStack();
  });
  afterAll(() => fuzz?.stack.close());

  it('answers every hostile request to the api without a 5xx, naming the problem of each refusal', async () => {
    const { stack, admin } = fuzz;
    const doc = await stack.client().get<OpenApiDoc>('/docs/openapi.json', { expect: 200 });
    expect(operations(doc).length).toBeGreaterThan(15);
    const ctx = { rand: seededRandom(SEED), bodyLimit: stack.config.http.bodyLimitBytes };
    const requests = apiRequests(ctx, doc, stack.apiUrl, admin);
    expect(requests.length).toBeGreaterThan(3000);
    const f = report(await runAll(requests));
    expect({ summary: f.summary, serverErrors: f.serverErrors.slice(0, 20) }).toEqual({
      summary: expect.any(String),
      serverErrors: [],
    });
    expect(f.unnamed.slice(0, 20)).toEqual([]);
  }, 240_000);
});
