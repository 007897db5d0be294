import { isUUID, IsUUID, Matches, registerDecorator, ValidationOptions } from 'class-validator';

/**
 * RFC 3339 date-times (`2024-01-31T12:00:00Z`, `2024-01-31T13:00:00.5+01:00`) and plain dates
 * (`2024-01-31`, midnight UTC). Everything else ISO 8601 allows (week dates `2024-W01`, ordinal
 * dates, comma fractions, times without an offset) is refused: each accepted value names exactly
 * one instant, and the components are checked (no 30 February, no 24:00, no offset beyond ±23:59).
 */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2})))?$/;

const INSTANT_HINT = 'must be an RFC 3339 date-time such as 2024-01-31T12:00:00Z (or a date such as 2024-01-31)';

/** The instant a strict date-time names, or null. */
export function parseInstant(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const m = INSTANT.exec(value);
  if (!m) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((p) =>
    p === undefined ? undefined : Number(p),
  ) as number[];
  if (month < 1 || month > 12 || day < 1) return null;
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() + (month === 2 && !isLeap(year) ? -1 : 0);
  if (day > daysInMonth || hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (m[9]) {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const millis = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millis);
  const time = utc.getTime() - offsetMinutes * 60_000;
  return Number.isFinite(time) ? new Date(time) : null;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** class-validator: the value is a strict instant (see parseInstant); replaces IsISO8601, which lets NaN dates through. */
export function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return (object: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isInstant',
      target: object.constructor,
      propertyName: propertyName as string,
      options: { message: INSTANT_HINT, ...options },
      validator: { validate: (value: unknown) => parseInstant(value) !== null },
    });
}

/**
 * An RFC 9562 UUID in its canonical text form, either case: versions 1-8 with the RFC variant, and
 * the nil and max UUIDs (class-validator's IsUUID('all'), so the DTO check and this one agree).
 */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && isUUID(value, 'all');
}

/** class-validator: the value is a UUID (see isUuid); the problem reads `must be a UUID`. */
export function IsUuid(options?: ValidationOptions): PropertyDecorator {
  return IsUUID('all', options);
}

/** What a client_id may be: 3-100 of A-Z a-z 0-9 . _ : - (chosen at registration, or generated). */
const CLIENT_ID = /^[A-Za-z0-9._:-]{3,100}$/;

export const CLIENT_ID_HINT = 'must be 3-100 characters of A-Z a-z 0-9 . _ : -';

export function isClientId(value: unknown): value is string {
  return typeof value === 'string' && CLIENT_ID.test(value);
}

/** class-validator: the value (each value, with `each`) is a client_id; the problem reads `must be a client_id`. */
export function IsClientId(options?: ValidationOptions): PropertyDecorator {
  const message = options?.each ? 'each value must be a client_id' : 'must be a client_id';
  return Matches(CLIENT_ID, { message, ...options });
}
