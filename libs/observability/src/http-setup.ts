import { INestApplication, Logger } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { toErrorBody } from './http-exception.filter';

/**
 * Body parsing with a size limit and JSON errors for malformed or oversized bodies.
 * `skip` lets the identity app leave provider routes to oidc-provider's own parser.
 */
export function installBodyParsers(app: INestApplication, limitBytes: number, skip?: (req: Request) => boolean): void {
  const logger = new Logger('Http');
  const parsers = [express.json({ limit: limitBytes }), express.urlencoded({ extended: false, limit: limitBytes })];
  for (const parser of parsers) {
    app.use((req: Request, res: Response, next: NextFunction) => (skip?.(req) ? next() : parser(req, res, next)));
  }
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const { status, body } = toErrorBody(err, logger, req);
    res.status(status).json(body);
  });
}
