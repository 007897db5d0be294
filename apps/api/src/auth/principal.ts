import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { ServerScope } from '@slo/clients';

/** Who called: the client a server token was issued to, and the token's scopes. */
export interface Principal {
  clientId: string;
  scopes: Set<string>;
}

export const SCOPES_KEY = 'slo:required-scopes';

/** The caller's token must carry at least one of these scopes. */
export const RequireScopes = (...scopes: ServerScope[]) => SetMetadata(SCOPES_KEY, scopes);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<{ principal: Principal }>().principal;
});

/**
 * Whose deliveries the caller may see and act on: null (everybody's) for operators with `admin`,
 * otherwise only its own client's. Other clients' resources then answer 404, revealing nothing.
 */
export function ownClientScope(p: Principal): string | null {
  return p.scopes.has('admin') ? null : p.clientId;
}
