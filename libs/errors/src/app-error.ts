import { HttpStatus } from '@nestjs/common';

/** Machine-readable error codes shared by every app. Each maps to one HTTP status. */
export enum ErrorCode {
  ValidationFailed = 'validation_failed',
  InvalidJson = 'invalid_json',
  PayloadTooLarge = 'payload_too_large',
  UnsupportedMediaType = 'unsupported_media_type',
  Unauthenticated = 'unauthenticated',
  InvalidToken = 'invalid_token',
  InsufficientScope = 'insufficient_scope',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  Conflict = 'conflict',
  Internal = 'internal_error',
}

const STATUS: Record<ErrorCode, HttpStatus> = {
  [ErrorCode.ValidationFailed]: HttpStatus.BAD_REQUEST,
  [ErrorCode.InvalidJson]: HttpStatus.BAD_REQUEST,
  [ErrorCode.PayloadTooLarge]: HttpStatus.PAYLOAD_TOO_LARGE,
  [ErrorCode.UnsupportedMediaType]: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  [ErrorCode.Unauthenticated]: HttpStatus.UNAUTHORIZED,
  [ErrorCode.InvalidToken]: HttpStatus.UNAUTHORIZED,
  [ErrorCode.InsufficientScope]: HttpStatus.FORBIDDEN,
  [ErrorCode.Forbidden]: HttpStatus.FORBIDDEN,
  [ErrorCode.NotFound]: HttpStatus.NOT_FOUND,
  [ErrorCode.Conflict]: HttpStatus.CONFLICT,
  [ErrorCode.Internal]: HttpStatus.INTERNAL_SERVER_ERROR,
};

export interface FieldProblem {
  field: string;
  problems: string[];
}

/** The one exception type of the coordinator; the exception filter renders it as `{ error, message, details? }`. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  get status(): HttpStatus {
    return STATUS[this.code];
  }

  static validation(field: string, problem: string): AppError {
    return new AppError(ErrorCode.ValidationFailed, `${field}: ${problem}`, [{ field, problems: [problem] }]);
  }

  static validationMany(problems: FieldProblem[]): AppError {
    const message = problems.map((p) => `${p.field}: ${p.problems.join('; ')}`).join(' | ');
    return new AppError(ErrorCode.ValidationFailed, message, problems);
  }
}
