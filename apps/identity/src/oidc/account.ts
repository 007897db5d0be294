import type { UsersService } from '@slo/accounts';
import type { Account, FindAccount } from 'oidc-provider';

/** oidc-provider's account lookup, backed by the `users` table. */
export function findAccountWith(users: UsersService): FindAccount {
  return async (_ctx, sub): Promise<Account | undefined> => {
    const user = await users.findById(sub);
    if (!user) return undefined;
    return {
      accountId: user.id,
      claims: () => ({ sub: user.id, email: user.email, email_verified: false, name: user.name ?? undefined }),
    };
  };
}
