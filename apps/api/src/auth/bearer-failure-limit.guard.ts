import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '@slo/errors';
import { RateLimits, throwTooManyRequests } from '@slo/ratelimit';
import type { Request, Response } from 'express';
import { SCOPES_KEY } from './principal';
import { ServerTokenGuard } from './server-token.guard';

/**
 * The api's global guard: ServerTokenGuard behind a limit on failed bearer authentication per
 * client IP. A request that presents a token which the guard refuses (401) counts one failure;
 * past BEARER_AUTH_MAX_FAILURES_PER_IP the address is answered 429 with Retry-After, before any
 * token is verified, until the window passes. Requests without a token and public routes are
 * not counted.
 */
@Injectable()
export class BearerFailureLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: ServerTokenGuard,
    private readonly limits: RateLimits,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const needsToken = this.reflector.getAllAndOverride<string[] | undefined>(SCOPES_KEY, [ctx.getHandler(), ctx.getClass()]);
    const req = ctx.switchToHttp().getRequest<Request>();
    if (!needsToken || req.headers.authorization === undefined) return this.tokens.canActivate(ctx);
    const res = ctx.switchToHttp().getResponse<Response>();
    const locked = await this.limits.bearerAuth.check(req.ip ?? '');
    if (locked) throwTooManyRequests(res, locked);
    try {
      return await this.tokens.canActivate(ctx);
    } catch (err) {
      if (err instanceof AppError && err.status === HttpStatus.UNAUTHORIZED) {
        const nowLocked = await this.limits.bearerAuth.fail(req.ip ?? '');
        if (nowLocked) throwTooManyRequests(res, nowLocked);
      }
      throw err;
    }
  }
}
