import type { UserEntity } from '@slo/database';
import type { Repository } from 'typeorm';
import * as password from './password';
import { UsersService } from './users.service';

jest.mock('./password', () => {
  const actual = jest.requireActual<typeof import('./password')>('./password');
  return { ...actual, verifyPassword: jest.fn(actual.verifyPassword) };
});

describe('UsersService.verifyCredentials', () => {
  const verify = password.verifyPassword as jest.MockedFunction<typeof password.verifyPassword>;

  it('does the same argon2 work for an unknown user as for a wrong password', async () => {
    const user = {
      id: 'u1',
      email: 'ada@example.com',
      passwordHash: await password.hashPassword('right password!'),
    } as UserEntity;
    const repo = { findOneBy: ({ email }: { email: string }) => Promise.resolve(email === user.email ? user : null) };
    const users = new UsersService(repo as unknown as Repository<UserEntity>);

    verify.mockClear();
    expect(await users.verifyCredentials('ada@example.com', 'wrong password')).toBeNull();
    expect(await users.verifyCredentials('nobody@example.com', 'wrong password')).toBeNull();
    expect(verify).toHaveBeenCalledTimes(2);
    // the unknown user was checked against a real argon2id hash, not skipped
    expect(verify.mock.calls[1][0]).toMatch(/^\$argon2id\$/);
    expect(await users.verifyCredentials(' ADA@example.com ', 'right password!')).toBe(user);
  });
});
