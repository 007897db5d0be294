import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { UserEntity } from '@slo/database';
import { AppError, ErrorCode } from '@slo/errors';
import { QueryFailedError, Repository } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { dummyHash, hashPassword, verifyPassword } from './password';

const PASSWORD_MIN_LENGTH = 10;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

@Injectable()
export class UsersService {
  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {}

  async create(input: { email: string; password: string; name?: string }): Promise<UserEntity> {
    const email = normaliseEmail(input.email);
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw AppError.validation('email', 'must be an e-mail address');
    if (input.password.length < PASSWORD_MIN_LENGTH) {
      throw AppError.validation('password', `must be at least ${PASSWORD_MIN_LENGTH} characters long`);
    }
    const user = this.users.create({
      id: uuidv7(),
      email,
      name: input.name ?? null,
      passwordHash: await hashPassword(input.password),
    });
    try {
      return await this.users.save(user);
    } catch (err) {
      if (err instanceof QueryFailedError && (err as { code?: string }).code === '23505') {
        throw new AppError(ErrorCode.Conflict, `a user with e-mail ${email} already exists`);
      }
      throw err;
    }
  }

  findById(id: string): Promise<UserEntity | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return Promise.resolve(null);
    return this.users.findOneBy({ id });
  }

  findByEmail(email: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ email: normaliseEmail(email) });
  }

  /**
   * The user when the password matches, otherwise null. Unknown e-mail and wrong password
   * take the same path (a real argon2 verification) so neither answer nor timing tells them apart.
   */
  async verifyCredentials(email: string, password: string): Promise<UserEntity | null> {
    const user = await this.findByEmail(email);
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash()), password);
    return user && ok ? user : null;
  }
}
