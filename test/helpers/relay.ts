/** The real relay the test runner started (web-test-runner.config.mjs). */
export const RELAY_URL: string = (window as unknown as { RELAY_URL: string }).RELAY_URL;

/** A hand-driven agent: a bare WebSocket speaking the protocol, to test the customer side alone. */
export class RawPeer {
  readonly frames: Array<Record<string, unknown>> = [];
  private readonly socket = new WebSocket(RELAY_URL);
  readonly opened = new Promise<void>((resolve) => this.socket.addEventListener('open', () => resolve()));
  readonly closed = new Promise<CloseEvent>((resolve) => this.socket.addEventListener('close', resolve));

  constructor() {
    this.socket.addEventListener('message', (e) => this.frames.push(JSON.parse(e.data as string)));
  }

  async send(frame: object): Promise<void> {
    await this.opened;
    this.socket.send(JSON.stringify(frame));
  }

  /** Resolves with the first frame of this type (already received or still to come). */
  async next(type: string, timeout = 5000): Promise<Record<string, unknown>> {
    const start = Date.now();
    for (;;) {
      const frame = this.frames.find((f) => f.t === type);
      if (frame) return frame;
      if (Date.now() - start > timeout)
        throw new Error(`No "${type}" frame within ${timeout} ms; got ${this.frames.map((f) => f.t).join(', ')}`);
      await new Promise((r) => setTimeout(r, 10)); // the poll's interval
    }
  }

  close(): void {
    this.socket.close();
  }
}
