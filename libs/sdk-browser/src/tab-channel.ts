import type { SessionStatus } from './types';

/** A status one tab learnt, with the time its request started (older news never wins). */
export interface TabMessage {
  status: SessionStatus;
  at: number;
}

/**
 * Tells the other tabs of the same application (same origin, same identity and client) every
 * status this tab learnt, so a logout reaches them at once rather than at their next poll.
 * BroadcastChannel where the browser has it, the storage event otherwise.
 */
export class TabChannel {
  private readonly channel?: BroadcastChannel;
  private readonly onStorage?: (e: StorageEvent) => void;

  constructor(
    private readonly name: string,
    onMessage: (message: TabMessage) => void,
  ) {
    const accept = (data: unknown) => {
      if (isTabMessage(data)) onMessage(data);
    };
    if (typeof BroadcastChannel === 'function') {
      this.channel = new BroadcastChannel(name);
      this.channel.onmessage = (e) => accept(e.data);
    } else if (typeof window !== 'undefined' && storage()) {
      this.onStorage = (e) => {
        if (e.key !== name || !e.newValue) return;
        try {
          accept(JSON.parse(e.newValue));
        } catch {
          // Not ours; ignore.
        }
      };
      window.addEventListener('storage', this.onStorage);
    }
  }

  post(message: TabMessage): void {
    if (this.channel) return this.channel.postMessage(message);
    // The storage event fires in the other tabs only when the value changes.
    storage()?.setItem(this.name, JSON.stringify({ ...message, nonce: Math.random() }));
  }

  close(): void {
    this.channel?.close();
    if (this.onStorage) window.removeEventListener('storage', this.onStorage);
  }
}

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined; // storage disabled (privacy settings)
  }
}

function isTabMessage(data: unknown): data is TabMessage {
  const m = data as TabMessage | null;
  return Boolean(m && typeof m.at === 'number' && m.status && typeof m.status.logged_in === 'boolean');
}
