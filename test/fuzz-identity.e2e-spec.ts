import { seededRandom } from './support/fuzz';
import { identityRequests } from './support/fuzz-identity';
import { report, runAll } from './support/fuzz-run';
import { FuzzStack, SEED, startFuzzStack } from './support/fuzz-stack';

/**
 * Hostile input against every identity route: the OAuth endpoints, logout, the session API, the
 * SDK files and the sign-in interactions, parameter by parameter, in the query and in form bodies.
 * No answer may be a 5xx, and every 4xx names its problem (the api: fuzz-api.e2e-spec.ts).
 */
describe('hostile input to identity: no 5xx, every refusal names its problem', () => {
  let fuzz: FuzzStack;

  beforeAll(async () => {
    fuzz = await startFuzzStack();
  });
  afterAll(() => fuzz?.stack.close());

  it('answers every hostile request to identity without a 5xx, naming the problem of each refusal', async () => {
    const { stack, rp, signed } = fuzz;
    const ctx = { rand: seededRandom(SEED), bodyLimit: stack.config.http.bodyLimitBytes };
    const identityAdmin = await stack.serverToken('admin');
    const requests = await identityRequests(ctx, { identityUrl: stack.identityUrl, rp, signed, identityAdmin });
    expect(requests.length).toBeGreaterThan(2000);
    const f = report(await runAll(requests));
    expect({ summary: f.summary, serverErrors: f.serverErrors.slice(0, 20) }).toEqual({
      summary: expect.any(String),
      serverErrors: [],
    });
    expect(f.unnamed.slice(0, 20)).toEqual([]);
  }, 240_000);
});
