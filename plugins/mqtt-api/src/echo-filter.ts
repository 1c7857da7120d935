/**
 * Recognises the stack's own publishes when the broker delivers them back (the plugin subscribes to
 * `ci/#` to catch bad writes, which includes the topics it publishes itself). MQTT 3.1.1 has no
 * "no local" subscription option, and aedes speaks 3.1.1 only, so the plugin remembers what it sent
 * per topic and swallows the first matching delivery. Bounded per topic; forgotten on reconnect.
 */
export class EchoFilter {
  private readonly pending = new Map<string, Buffer[]>();

  constructor(private readonly maxPerTopic = 64) {}

  expect(topic: string, payload: Buffer): void {
    let list = this.pending.get(topic);
    if (!list) this.pending.set(topic, (list = []));
    list.push(payload);
    if (list.length > this.maxPerTopic) list.shift();
  }

  /** True (and forgotten) when this delivery is one of our own publishes. */
  consume(topic: string, payload: Uint8Array): boolean {
    const list = this.pending.get(topic);
    if (!list) return false;
    const index = list.findIndex((sent) => sent.equals(payload));
    if (index < 0) return false;
    list.splice(index, 1);
    if (list.length === 0) this.pending.delete(topic);
    return true;
  }

  clear(): void {
    this.pending.clear();
  }
}
