// Who may use a fiberrig web page (the live view, the lab dashboard): one rule for both.
//
// On a loopback address no token is needed (unless one is given); on any other address a
// token is required (generated when not given). The page takes it as ?token=… and gets it
// back as an HttpOnly, SameSite=Strict cookie (named per port: cookies are shared by every
// port of a host), so its scripts, styles and WebSocket carry it; a Bearer header works too.
// A WebSocket from another web site is refused (any site can open a socket to 127.0.0.1),
// and a token-less loopback server answers only to loopback host names (DNS rebinding).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LiveError } from './errors.ts';

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function tokenOf(req: IncomingMessage, url: URL, cookieName: string): string | undefined {
  const q = url.searchParams.get('token');
  if (q) return q;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === cookieName) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export interface AccessOptions {
  /** The address the server listens on. */
  host: string;
  /** A given token; absent: none on loopback, generated elsewhere. */
  token?: string;
  /** The cookie's name once the port is known (e.g. `fiberrig_live_token_8080`). */
  cookieName: (port: number) => string;
}

export interface Access {
  /** The token in force (undefined: a loopback server without one). */
  readonly token: string | undefined;
  /** Call once the server listens (the cookie name carries the port). */
  setPort(port: number): void;
  /** The request carries the token (or none is needed). */
  authorized(req: IncomingMessage, url: URL): boolean;
  /** Not a DNS-rebinding request (only checked without a token). */
  hostAllowed(req: IncomingMessage): boolean;
  /** A WebSocket upgrade from this server's own page (or from no page at all). */
  originAllowed(req: IncomingMessage): boolean;
  /** The Set-Cookie header value the page gets with its HTML (undefined without a token). */
  cookieHeader(): string | undefined;
}

export function createAccess(options: AccessOptions): Access {
  const loopback = isLoopbackHost(options.host);
  const token = options.token ?? (loopback ? undefined : randomBytes(18).toString('base64url'));
  if (token !== undefined && token.length < 8) throw new LiveError('E_LIVE_TOKEN', 'the token is shorter than 8 characters', 'give a longer --token, or none to have one generated');
  const tokenDigest = token === undefined ? undefined : digest(token);
  let port = 0;
  return {
    token,
    setPort: (p) => { port = p; },
    authorized: (req, url) => {
      if (tokenDigest === undefined) return true;
      const given = tokenOf(req, url, options.cookieName(port));
      return given !== undefined && timingSafeEqual(digest(given), tokenDigest);
    },
    hostAllowed: (req) => {
      if (tokenDigest !== undefined) return true;
      const name = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
      return isLoopbackHost(name);
    },
    originAllowed: (req) => {
      const origin = req.headers.origin;
      return origin === undefined || origin === `http://${req.headers.host}`;
    },
    cookieHeader: () => token === undefined ? undefined : `${options.cookieName(port)}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
  };
}
