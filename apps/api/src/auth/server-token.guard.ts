import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ServerTokenVerifier, TokenRejected, type VerifiedServerToken } from '@slo/auth';
import { AppError, ErrorCode } from '@slo/errors';
import type { Request, Response } from 'express';
import { Principal, SCOPES_KEY } from './principal';

/**
 * Every api route needs a server token (Bearer) for a client that is still registered and active,
 * with one of the scopes the route names. 401 without or with a bad token (also one issued before
 * the client's last secret rotation), 403 for a missing scope. The scopes are the token's as far
 * as the client still holds them in `server_scopes`: a demoted client loses a scope at once.
 */
@Injectable()
export class ServerTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: ServerTokenVerifier,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const required = this.reflector.getAllAndOverride<string[] | undefined>(SCOPES_KEY, [ctx.getHandler(), ctx.getClass()]);
    if (!required) return true;
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header) : null;
    if (!match) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new AppError(ErrorCode.Unauthenticated, 'a server token is required: Authorization: Bearer <access token>');
    }
    let verified: VerifiedServerToken;
    try {
      verified = await this.verifier.verify(match[1]);
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      res.setHeader('WWW-Authenticate', `Bearer error="invalid_token", error_description="${err.message}"`);
      throw new AppError(ErrorCode.InvalidToken, err.message);
    }
    const scopes = new Set(verified.scopes);
    if (!required.some((s) => scopes.has(s))) {
      res.setHeader('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${required.join(' ')}"`);
      throw new AppError(
        ErrorCode.InsufficientScope,
        `this operation needs a token with scope ${required.join(' or ')}, held by the client now`,
      );
    }
    req.principal = { clientId: verified.clientId, scopes };
    return true;
  }
}
