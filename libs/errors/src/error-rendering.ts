import type { Request, Response } from 'express';

/** The JSON error of every app: `{ error, message, details? }`; 5xx also carry an `error_id` that is logged. */
export interface ErrorBody {
  error: string;
  message: string;
  details?: unknown;
  error_id?: string;
}

/**
 * How an app answers errors. API routes answer the JSON error `{ error, message, details? }`;
 * routes for people (login, logout and confirm pages) answer an HTML page with the same message.
 * The choice is made here for every status, so whatever toErrorBody decides (400, 413, 503 …)
 * reaches a browser as a page and a program as JSON.
 */
export interface ErrorRendering {
  /** Requests answered with an HTML page. */
  isBrowserRoute?: (req: Request) => boolean;
  /** The page for an error (the app's own page frame). */
  htmlPage?: (status: number, body: ErrorBody) => string;
  /** Extra JSON members for some routes (OAuth endpoints add `error_description`). */
  jsonExtras?: (req: Request, status: number, body: ErrorBody) => Record<string, unknown> | undefined;
}

function wantsHtml(req: Request, rendering: ErrorRendering | undefined): boolean {
  return Boolean(rendering?.htmlPage && rendering.isBrowserRoute?.(req));
}

/** Sends an error answer as HTML or JSON (see ErrorRendering). Does nothing when headers were sent. */
export function sendError(req: Request, res: Response, status: number, body: ErrorBody, rendering?: ErrorRendering): void {
  if (res.headersSent) return;
  res.setHeader('Cache-Control', 'no-store');
  if (wantsHtml(req, rendering)) {
    res.status(status).type('html').send(rendering!.htmlPage!(status, body));
    return;
  }
  res.status(status).json({ ...body, ...rendering?.jsonExtras?.(req, status, body) });
}
