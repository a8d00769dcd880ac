/**
 * Agent authentication: the contact center's backend signs a short-lived JWT for each
 * agent; the relay checks it with `jose` during the HTTP upgrade, before the WebSocket
 * exists. Browsers cannot set headers on a WebSocket, so the token rides in a second
 * subprotocol (`cobrowse.bearer.<jwt>`) beside `cobrowse.v1`.
 */
import { createHash, createPublicKey, randomBytes, timingSafeEqual, webcrypto, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { SignJWT, createLocalJWKSet, createRemoteJWKSet, errors, importSPKI, jwtVerify, type JWTVerifyGetKey } from 'jose';

/** The subprotocol every client offers and the relay answers with (the token one is never echoed). */
export const SUBPROTOCOL = 'cobrowse.v1';
const BEARER_PREFIX = 'cobrowse.bearer.';

export interface AgentAuthOptions {
  /** HS256 shared secret, at least 32 bytes (RFC 7518 §3.2). */
  secret?: string;
  /** A PEM public key (SPKI) file: RS256 for an RSA key, ES256 for a P-256 key. */
  publicKeyFile?: string;
  /** A JWKS file (`{"keys": [...]}`); the token's `kid` picks the key. RS256 or ES256. */
  jwksFile?: string;
  /** A JWKS URL, fetched and cached (e.g. your identity provider's `/.well-known/jwks.json`). */
  jwksUrl?: string;
  /** Required `iss` claim, if set. */
  issuer?: string;
  /** Required `aud` claim, if set. */
  audience?: string;
  /**
   * Longest token lifetime accepted: `exp − iat`, and the time since `iat`; default 12 h. A token
   * without `iat` is refused: its lifetime cannot be known.
   */
  maxTokenAgeMs?: number;
}

/** Who an authenticated agent is, from its token. */
export interface AgentIdentity {
  /** The token's `sub`: the agent's id at the contact center; join limits count per id. */
  id: string;
  /** The token's `name` (shown to the customer); "Agent" when absent. */
  name: string;
}

/** A refusal whose message is safe to send to the client and to log (it never contains the token). */
export class AuthError extends Error {
  override name = 'AuthError';
}

export interface AgentAuth {
  readonly mode: 'jwt' | 'dev';
  /** One line for the start-up summary; never contains a secret. */
  readonly summary: string;
  /** Resolves with the agent, or rejects with an AuthError. */
  verify(token: string): Promise<AgentIdentity>;
  /** Dev mode only: a token for `name`, valid for MAX_TOKEN_AGE_MS. */
  issueDevToken?(name: string): Promise<string>;
}

const DEV_ISSUER = 'cobrowse-relay-dev';
/** The default `maxTokenAgeMs`: a working day; dev tokens are exactly this long. */
export const MAX_TOKEN_AGE_MS = 12 * 3600_000;
const MAX_SUB = 256;
/** `typ` headers of tokens meant for us: absent, a plain JWT, or an OAuth access token (RFC 9068); never e.g. an ID or logout token. */
const ACCEPTED_TYP = /^(application\/)?(jwt|at\+jwt)$/i;
/** Clock skew tolerated on exp/nbf between the token issuer and the relay. */
const CLOCK_TOLERANCE_S = 30;
const MAX_NAME = 100;

/** The agent's token: from the `cobrowse.bearer.` subprotocol (browsers) or an `Authorization: Bearer` header (servers). */
export function bearerToken(req: IncomingMessage): string | undefined {
  const offered = req.headers['sec-websocket-protocol'];
  if (offered) {
    for (const protocol of offered.split(',')) {
      const p = protocol.trim();
      if (p.startsWith(BEARER_PREFIX)) return p.slice(BEARER_PREFIX.length);
    }
  }
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
}

/** Whether the request's `Authorization: Bearer` token hashes to `expected` (a SHA-256): hashing first makes the compare constant-time at any length. */
export function bearerMatches(req: IncomingMessage, expected: Buffer): boolean {
  const header = req.headers.authorization;
  if (!header?.startsWith('Bearer ')) return false;
  return timingSafeEqual(createHash('sha256').update(header.slice(7).trim()).digest(), expected);
}

/** ws's `handleProtocols`: answer `cobrowse.v1` when offered; never echo the token. */
export const chooseProtocol = (offered: Set<string>): string | false => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false);

function keyAlgorithm(key: KeyObject, file: string): 'RS256' | 'ES256' {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new TypeError(`agentAuth.publicKeyFile ${file}: expected an RSA or P-256 public key`);
}

/** Imports a key once, on first use: jose would otherwise import raw bytes or PEM again on every verify (2–3× slower). */
function importedOnce(make: () => Promise<webcrypto.CryptoKey>): JWTVerifyGetKey {
  let key: Promise<webcrypto.CryptoKey> | undefined;
  return () => (key ??= make());
}

const hmacKey = (secret: Uint8Array) =>
  importedOnce(() => webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']));

const hours = (ms: number) => (ms % 3600_000 ? `${Math.round(ms / 60_000)} min` : `${ms / 3600_000} h`);

function explain(err: unknown, maxAgeMs: number): AuthError {
  if (err instanceof errors.JWTExpired && err.claim === 'iat')
    return new AuthError(`The agent token was issued more than ${hours(maxAgeMs)} ago`);
  if (err instanceof errors.JWTExpired) return new AuthError('The agent token has expired');
  if (err instanceof errors.JWTClaimValidationFailed && err.reason === 'missing') {
    return new AuthError(`The agent token lacks the required "${err.claim}" claim`);
  }
  if (err instanceof errors.JWTClaimValidationFailed) return new AuthError(`The agent token's "${err.claim}" claim is not valid`);
  return new AuthError('The agent token is not valid');
}

/** Builds the verifier for `options`, reading key files once at start (a TypeError if they are missing or wrong). */
export function createAgentAuth(options: AgentAuthOptions | 'dev'): AgentAuth {
  if (options === 'dev') return devAuth();
  const { secret, publicKeyFile, jwksFile, jwksUrl, issuer, audience, maxTokenAgeMs = MAX_TOKEN_AGE_MS } = options;
  if (!(Number.isFinite(maxTokenAgeMs) && maxTokenAgeMs >= 1000))
    throw new TypeError('agentAuth.maxTokenAgeMs must be at least 1000 (1 s)');
  const sources = [secret, publicKeyFile, jwksFile, jwksUrl].filter((x) => x !== undefined);
  if (sources.length !== 1) {
    throw new TypeError('agentAuth needs exactly one of secret, publicKeyFile, jwksFile, jwksUrl');
  }
  let key: JWTVerifyGetKey;
  let algorithms: string[];
  let summary: string;
  if (secret !== undefined) {
    const bytes = new TextEncoder().encode(secret);
    if (bytes.length < 32) throw new TypeError('agentAuth.secret must be at least 32 bytes for HS256');
    key = hmacKey(bytes);
    algorithms = ['HS256'];
    summary = 'JWT, HS256 shared secret';
  } else if (publicKeyFile !== undefined) {
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey(readFileSync(publicKeyFile));
    } catch (err) {
      throw new TypeError(`agentAuth.publicKeyFile ${publicKeyFile}: ${(err as Error).message}`);
    }
    const alg = keyAlgorithm(publicKey, publicKeyFile);
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    key = importedOnce(() => importSPKI(pem, alg));
    algorithms = [alg];
    summary = `JWT, ${algorithms[0]} public key ${publicKeyFile}`;
  } else if (jwksFile !== undefined) {
    try {
      key = createLocalJWKSet(JSON.parse(readFileSync(jwksFile, 'utf8')));
    } catch (err) {
      throw new TypeError(`agentAuth.jwksFile ${jwksFile}: ${(err as Error).message}`);
    }
    algorithms = ['RS256', 'ES256'];
    summary = `JWT, JWKS file ${jwksFile}`;
  } else {
    key = createRemoteJWKSet(new URL(jwksUrl!));
    algorithms = ['RS256', 'ES256'];
    summary = `JWT, JWKS ${jwksUrl}`;
  }
  if (issuer) summary += `, issuer ${issuer}`;
  if (audience) summary += `, audience ${audience}`;
  summary += `, lifetime at most ${hours(maxTokenAgeMs)}`;
  return { mode: 'jwt', summary, verify: verifier(key, { algorithms, issuer, audience }, maxTokenAgeMs) };
}

function verifier(key: JWTVerifyGetKey, options: { algorithms: string[]; issuer?: string; audience?: string }, maxAgeMs: number) {
  return async (token: string): Promise<AgentIdentity> => {
    let payload, protectedHeader;
    try {
      // A pinned algorithm list stops "alg: none" and HS256-with-the-public-key confusion.
      ({ payload, protectedHeader } = await jwtVerify(token, key, {
        ...options,
        clockTolerance: CLOCK_TOLERANCE_S,
        maxTokenAge: maxAgeMs / 1000, // also requires iat, and refuses one in the future
        requiredClaims: ['sub', 'exp', 'iat'], // a token that never expires is a standing credential
      }));
    } catch (err) {
      throw explain(err, maxAgeMs);
    }
    if (protectedHeader.typ !== undefined && !ACCEPTED_TYP.test(protectedHeader.typ)) {
      throw new AuthError(`The agent token's "typ" header "${protectedHeader.typ.slice(0, 40)}" is not JWT or at+jwt`);
    }
    // A long-lived token is a standing credential, however recently it was issued.
    if (payload.exp! - payload.iat! > maxAgeMs / 1000)
      throw new AuthError(`The agent token lives longer than ${hours(maxAgeMs)} (exp − iat)`);
    if (typeof payload.sub !== 'string' || !payload.sub || payload.sub.length > MAX_SUB) {
      throw new AuthError(`The agent token's "sub" claim must be a non-empty string of at most ${MAX_SUB} characters`);
    }
    const name = typeof payload.name === 'string' && payload.name.trim() ? payload.name.trim().slice(0, MAX_NAME) : 'Agent';
    return { id: payload.sub, name };
  };
}

/** Dev mode: a random secret per process, so a dev token is worthless against any other relay or restart. */
function devAuth(): AgentAuth {
  const secret = randomBytes(32);
  return {
    mode: 'dev',
    summary: 'DEV MODE: the relay issues agent tokens to anyone at GET /dev/agent-token',
    verify: verifier(hmacKey(secret), { algorithms: ['HS256'], issuer: DEV_ISSUER }, MAX_TOKEN_AGE_MS),
    issueDevToken: (name: string) => {
      const iat = Math.floor(Date.now() / 1000); // exp from the same second: exactly the longest lifetime allowed
      return new SignJWT({ name: name.trim().slice(0, MAX_NAME) || 'Dev agent' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`dev-${randomBytes(6).toString('hex')}`)
        .setIssuer(DEV_ISSUER)
        .setIssuedAt(iat)
        .setExpirationTime(iat + MAX_TOKEN_AGE_MS / 1000)
        .sign(secret);
    },
  };
}
