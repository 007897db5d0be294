import { Algorithm, hash, verify } from '@node-rs/argon2';

/** argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane). */
const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export function verifyPassword(phc: string, password: string): Promise<boolean> {
  return verify(phc, password).catch(() => false);
}

let dummy: Promise<string> | undefined;
/** A hash to verify against when the user does not exist, so both failures cost the same time. */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword('timing-equaliser-not-a-real-password');
  return dummy;
}
