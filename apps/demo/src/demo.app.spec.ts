import request from 'supertest';
import { demoSettingsFromEnv } from './demo-config';
import { createDemoApp } from './demo.app';
import { renderDemoPage } from './demo-page';

describe('demo app settings', () => {
  it('defaults to localhost:3000 against identity on localhost:4000', () => {
    expect(demoSettingsFromEnv({ DEMO_CLIENT_SECRET: 's3cret' })).toMatchObject({
      baseUrl: 'http://localhost:3000',
      port: 3000,
      identityUrl: 'http://localhost:4000',
      clientId: 'demo-app',
    });
  });

  it('names every problem at once', () => {
    expect(() => demoSettingsFromEnv({ DEMO_PORT: 'http', DEMO_IDENTITY_URL: 'id.local' })).toThrow(
      /DEMO_PORT: must be a port number\n.*DEMO_IDENTITY_URL: must be an absolute URL\n.*DEMO_CLIENT_SECRET: is required/s,
    );
  });
});

describe('demo page', () => {
  const app = createDemoApp(demoSettingsFromEnv({ DEMO_CLIENT_SECRET: 's3cret', DEMO_IDENTITY_URL: 'https://id.example.com/' }));

  it('loads the SDK from identity and hands it the client settings', async () => {
    const res = await request(app).get('/?poll=1500').expect(200);
    expect(res.text).toContain('<script src="https://id.example.com/sdk/spid.js"></script>');
    const config = JSON.parse(/<script id="demo-config" type="application\/json">(.*?)<\/script>/.exec(res.text)![1]);
    expect(config).toEqual({
      server: 'https://id.example.com',
      client_id: 'demo-app',
      redirect_uri: 'http://localhost:3000/',
      pollInterval: 1500,
    });
  });

  it('leaves the SDK its own defaults when the page is asked for without parameters', async () => {
    const res = await request(app).get('/').expect(200);
    const config = JSON.parse(/<script id="demo-config" type="application\/json">(.*?)<\/script>/.exec(res.text)![1]);
    expect(Object.keys(config).sort()).toEqual(['client_id', 'redirect_uri', 'server']);
  });

  it.each([
    ['poll=soon', 'poll: must be 0 (off) or a whole number of milliseconds from 100'],
    ['poll=-1', 'poll: must be 0 (off) or a whole number of milliseconds from 100'],
    ['poll=5', 'poll: must be 0 (off) or a whole number of milliseconds from 100'],
    ['poll=1.5', 'poll: must be 0 (off) or a whole number of milliseconds from 100'],
    ['cache=-5', 'cache: must be a whole number of milliseconds'],
  ])('answers %s with a 400 naming the parameter', async (query, message) => {
    const res = await request(app).get(`/?${query}`).expect(400);
    expect(res.body).toEqual({ error: 'validation_failed', message });
  });

  it('escapes what the user controls (their e-mail address) and keeps the config script inert', () => {
    const settings = demoSettingsFromEnv({ DEMO_CLIENT_SECRET: 's3cret', DEMO_CLIENT_ID: '</script><script>alert(1)//' });
    const html = renderDemoPage(settings, { appUser: '"><img src=x onerror=alert(1)>', pollInterval: 0, cacheTtl: 0 });
    expect(html).toContain('signed in as &quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('</script><script>alert(1)');
    expect(html).toContain('"client_id":"\\u003c/script>\\u003cscript>alert(1)//"');
  });
});
