// Host names: parsing the Host header and MERGESCOPE_ALLOWED_HOSTS entries, and
// matching one against the other (pure; env.ts validates the settings with it).
import { isIP } from "node:net";

export interface HostEntry {
  /** Lower-case name or IP (IPv6 without brackets). */
  host: string;
  /** null = any port. */
  port: number | null;
  /** Set by the administrator (MERGESCOPE_ALLOWED_HOSTS), not a default: such entries also admit cross-origin mutations from that origin (a reverse proxy's public name). */
  explicit: boolean;
}

export const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"] as const;
const WILDCARD_BINDS = new Set(["0.0.0.0", "::", "[::]"]);

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A DNS name (RFC 1123 labels; a trailing dot is allowed) or an IP literal. */
export function isHostName(h: string): boolean {
  if (isIP(h) !== 0) return true;
  const name = h.endsWith(".") ? h.slice(0, -1) : h;
  return name.length > 0 && name.length <= 253 && name.split(".").every((l) => LABEL.test(l));
}

/** "name", "name:port", "1.2.3.4:80", "[::1]:3000", "::1" → { host, port }, or null when malformed. */
export function parseHostPort(text: string): { host: string; port: number | null } | null {
  const t = text.trim().toLowerCase();
  let host: string;
  let portText: string | undefined;
  if (t.startsWith("[")) {
    const end = t.indexOf("]");
    if (end < 0) return null;
    host = t.slice(1, end);
    const rest = t.slice(end + 1);
    if (rest !== "" && !rest.startsWith(":")) return null;
    portText = rest === "" ? undefined : rest.slice(1);
    if (isIP(host) !== 6) return null;
  } else if (isIP(t) === 6) {
    host = t;
  } else {
    const colon = t.lastIndexOf(":");
    host = colon < 0 ? t : t.slice(0, colon);
    portText = colon < 0 ? undefined : t.slice(colon + 1);
  }
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (!isHostName(host)) return null;
  let port: number | null = null;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port < 1 || port > 65535) return null;
  }
  return { host, port };
}

/** Whether HOST binds every interface (then only explicit names and loopback are allowed by default). */
export function isWildcardBind(host: string): boolean {
  return WILDCARD_BINDS.has(host);
}

export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The allowlist: loopback names, the bound host (unless it is a wildcard) and the configured entries. */
export function allowedHostEntries(bindHost: string, configured: string | undefined): HostEntry[] {
  const out: HostEntry[] = LOOPBACK_NAMES.map((host) => ({ host, port: null, explicit: false }));
  const bound = bindHost.replace(/^\[|\]$/g, "").toLowerCase();
  if (!isWildcardBind(bindHost) && !out.some((e) => e.host === bound)) out.push({ host: bound, port: null, explicit: false });
  for (const raw of (configured ?? "").split(",")) {
    if (raw.trim() === "") continue;
    const p = parseHostPort(raw);
    if (!p) throw new Error(`'${raw.trim()}' is not a host name or IP address (optionally with :port)`);
    out.push({ ...p, explicit: true });
  }
  return out;
}

function matches(e: HostEntry, h: { host: string; port: number | null }): boolean {
  return e.host === h.host && (e.port === null || e.port === h.port);
}

/** True when the Host header names an allowed host. */
export function hostAllowed(hostHeader: string | null, allowed: readonly HostEntry[]): boolean {
  if (!hostHeader) return false;
  const h = parseHostPort(hostHeader);
  return h !== null && allowed.some((e) => matches(e, h));
}

/**
 * True when a mutation's Origin may act on this server: the same host:port as the request's
 * Host (a page this server served), or an origin the administrator listed explicitly.
 */
export function originAllowed(origin: string, hostHeader: string | null, allowed: readonly HostEntry[]): boolean {
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false;
  }
  if (o.protocol !== "http:" && o.protocol !== "https:") return false;
  const oh = parseHostPort(o.host);
  if (!oh) return false;
  const host = hostHeader ? parseHostPort(hostHeader) : null;
  if (host && host.host === oh.host && host.port === oh.port) return true;
  const withPort = { host: oh.host, port: oh.port ?? (o.protocol === "https:" ? 443 : 80) };
  return allowed.some((e) => e.explicit && (matches(e, oh) || matches(e, withPort)));
}
