/**
 * Messages between relay nodes carry an HMAC-SHA256 of their bytes under a secret the nodes share,
 * so whoever can PUBLISH on Redis but lacks the secret cannot put frames or presence news in front
 * of a party. Layout: 43 characters of base64url MAC, then the message.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const MAC_LENGTH = 43; // 32 bytes in unpadded base64url

export class BusMac {
  readonly #secret: Buffer;

  constructor(secret: string) {
    this.#secret = Buffer.from(secret);
  }

  #mac(body: Buffer): Buffer {
    return Buffer.from(createHmac('sha256', this.#secret).update(body).digest('base64url'));
  }

  /** The message with its MAC in front (a string stays a string: scripts publish it as it is). */
  seal(body: string): string;
  seal(body: Buffer): Buffer;
  seal(body: string | Buffer): string | Buffer {
    if (typeof body === 'string') return this.#mac(Buffer.from(body)).toString('latin1') + body;
    return Buffer.concat([this.#mac(body), body]);
  }

  /** The message without its MAC, or null if the MAC is missing or wrong. */
  open(message: Buffer): Buffer | null {
    if (message.length < MAC_LENGTH) return null;
    const body = message.subarray(MAC_LENGTH);
    return timingSafeEqual(message.subarray(0, MAC_LENGTH), this.#mac(body)) ? body : null;
  }
}
