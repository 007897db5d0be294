/**
 * The session store express-openid-connect needs for back-channel logout (callback style): it
 * remembers which sessions a logout token ended. In memory: enough for one demo process.
 */
export class MemoryStore {
  private readonly data = new Map<string, unknown>();

  get(id: string, cb: (err: null, value?: unknown) => void): void {
    cb(null, this.data.get(id));
  }

  set(id: string, value: unknown, cb: (err: null) => void): void {
    this.data.set(id, value);
    cb(null);
  }

  destroy(id: string, cb: (err: null) => void): void {
    this.data.delete(id);
    cb(null);
  }
}
