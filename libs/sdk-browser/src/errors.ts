import type { SPiDErrorCode, SPiDErrorInfo } from './types';

/** Every failure of the SDK: a code to branch on, a message naming the problem. */
export class SPiDError extends Error implements SPiDErrorInfo {
  override readonly name = 'SPiDError';

  constructor(
    readonly code: SPiDErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }

  toJSON(): SPiDErrorInfo {
    return this.status === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, status: this.status };
  }
}
