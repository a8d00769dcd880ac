/**
 * Secrets and their hashes, on the Web Crypto API both Node and browsers have: the relay keeps
 * SHA-256 hashes of tokens (base64), never the tokens themselves.
 */

/** base64 (`url`: base64url without padding) of some bytes. */
function base64(bytes: Uint8Array, url = false): string {
  const text = btoa(String.fromCharCode(...bytes));
  return url ? text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : text;
}

/** A fresh secret: 32 random bytes, base64url. */
export const newToken = (): string => base64(globalThis.crypto.getRandomValues(new Uint8Array(32)), true);

/** SHA-256 of a token, base64: what the relay keeps instead of the token. */
export async function hashToken(token: string): Promise<string> {
  return base64(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))));
}

/** A candidate session ID: 9 digits, uniform (32-bit draws past the last whole billion are drawn again). */
export function newCode(): string {
  const draw = new Uint32Array(1);
  do globalThis.crypto.getRandomValues(draw);
  while (draw[0]! >= 4_000_000_000);
  return String(draw[0]! % 1_000_000_000).padStart(9, '0');
}

/** Compares two hashes in time that depends on their length only. */
export function sameHash(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
