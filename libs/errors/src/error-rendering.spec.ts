import type { Request, Response } from 'express';
import { ErrorRendering, sendError } from './error-rendering';

function fakeRes() {
  const sent: { status?: number; type?: string; body?: unknown; headers: Record<string, string> } = { headers: {} };
  const res = {
    headersSent: false,
    setHeader: (k: string, v: string) => void (sent.headers[k] = v),
    status(s: number) {
      sent.status = s;
      return this;
    },
    type(t: string) {
      sent.type = t;
      return this;
    },
    send: (b: unknown) => void (sent.body = b),
    json: (b: unknown) => void ((sent.type = 'json'), (sent.body = b)),
  };
  return { res: res as unknown as Response, sent };
}

describe('sendError', () => {
  const rendering: ErrorRendering = {
    isBrowserRoute: (req) => req.path.startsWith('/interaction'),
    htmlPage: (status, body) => `<p>${status} ${body.message}</p>`,
  };

  it.each([400, 413, 415, 429, 500, 503])('renders status %i as a page on browser routes and as JSON elsewhere', (status) => {
    const body = { error: 'some_error', message: 'what went wrong' };
    const page = fakeRes();
    sendError({ path: '/interaction/x' } as Request, page.res, status, body, rendering);
    expect(page.sent).toMatchObject({ status, type: 'html', body: `<p>${status} what went wrong</p>` });
    const api = fakeRes();
    sendError({ path: '/v1/clients' } as Request, api.res, status, body, rendering);
    expect(api.sent).toMatchObject({ status, type: 'json', body });
  });
});
