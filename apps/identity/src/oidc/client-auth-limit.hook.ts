import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { RateLimited, RateLimits } from '@slo/ratelimit';
import Provider, { errors } from 'oidc-provider';
import { OIDC_PROVIDER } from './oidc-provider.token';

interface ClientWithSecret {
  clientId: string;
  compareClientSecret(actual: string): boolean | Promise<boolean>;
}

/** 429 in the token endpoint's own error format: `{ error: "too_many_requests", error_description }`. */
class TooManyRequests extends errors.OIDCProviderError {
  constructor(limited: RateLimited) {
    super(429, 'too_many_requests');
    this.error_description = limited.message;
  }
}

/**
 * Failed client authentication per client_id, wherever oidc-provider checks a client secret
 * (/token, /token/revocation): the secret comparison is wrapped, so the limit is checked after the
 * provider has parsed the request and found the client (Basic header or form alike), and before
 * the secret is compared. Over the limit the client is refused with 429 and Retry-After, even with
 * the right secret, until the window passes. The queue dashboard counts into the same limiter.
 */
@Injectable()
export class ClientAuthLimitHook implements OnModuleInit {
  constructor(
    @Inject(OIDC_PROVIDER) private readonly provider: Provider,
    private readonly limits: RateLimits,
  ) {}

  onModuleInit(): void {
    const proto = this.provider.Client.prototype as unknown as ClientWithSecret;
    const compare = proto.compareClientSecret;
    const limits = this.limits.clientAuth;
    const refuse = (limited: RateLimited): never => {
      Provider.ctx?.set('Retry-After', String(limited.retryAfterSeconds));
      throw new TooManyRequests(limited);
    };
    proto.compareClientSecret = async function limitedCompare(this: ClientWithSecret, actual: string) {
      const locked = await limits.check(this.clientId);
      if (locked) refuse(locked);
      if (await compare.call(this, actual)) return true;
      const nowLocked = await limits.fail(this.clientId);
      if (nowLocked) refuse(nowLocked);
      return false;
    };
  }
}
