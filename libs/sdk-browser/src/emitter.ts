import type { SdkEvent, SdkListener } from './types';

/** `SPiD.event`: subscribers per event name; one listener's exception never stops the others. */
export class EventHub {
  private readonly listeners = new Map<string, SdkListener[]>();

  subscribe(name: string, listener: SdkListener): void {
    check(name, listener);
    const list = this.listeners.get(name) ?? [];
    if (!list.includes(listener)) this.listeners.set(name, [...list, listener]);
  }

  unsubscribe(name: string, listener: SdkListener): void {
    check(name, listener);
    const list = this.listeners.get(name);
    if (list)
      this.listeners.set(
        name,
        list.filter((l) => l !== listener),
      );
  }

  fire(event: SdkEvent): void {
    for (const listener of this.listeners.get(event.event) ?? []) {
      try {
        listener(event);
      } catch (err) {
        // Report it as an uncaught error would be, without skipping the remaining listeners.
        setTimeout(() => {
          throw err;
        });
      }
    }
  }
}

function check(name: unknown, listener: unknown): void {
  if (typeof name !== 'string' || !name) throw new TypeError('SPiD.event: the event name must be a non-empty string');
  if (typeof listener !== 'function') throw new TypeError(`SPiD.event: the listener for ${name} must be a function`);
}
