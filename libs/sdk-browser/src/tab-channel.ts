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
        if (e.key !== name || !e.newValue) return; // the removal that follows every message
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
    // The storage event fires in the other tabs when the value changes; removing it at once
    // keeps no session data in storage.
    const store = storage();
    store?.setItem(this.name, JSON.stringify({ ...message, nonce: Math.random() }));
    store?.removeItem(this.name);
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

/** Clocks of tabs on one machine agree; a stamp further ahead would freeze every later update. */
const MAX_CLOCK_LEAD_MS = 60_000;

function isTabMessage(data: unknown): data is TabMessage {
  const m = data as TabMessage | null;
  return Boolean(
    m &&
    Number.isFinite(m.at) &&
    m.at <= Date.now() + MAX_CLOCK_LEAD_MS &&
    m.status &&
    typeof m.status.logged_in === 'boolean' &&
    (m.status.user_id === null || typeof m.status.user_id === 'string') &&
    (m.status.session_hash === null || typeof m.status.session_hash === 'string'),
  );
}
