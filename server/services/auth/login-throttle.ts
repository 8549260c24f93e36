// Failed sign-ins per account. Better Auth also limits sign-in requests per
// client IP, but an IP header can be forged when no proxy sets it: counting
// failures per email address stops password guessing whatever the address.
// In memory: one web process handles every sign-in.

export const MAX_FAILED_SIGN_INS = 5;
export const FAILED_SIGN_IN_WINDOW_MS = 15 * 60 * 1000;

const failures = new Map<string, { count: number; first: number }>();

function key(email: string): string {
  return email.trim().toLowerCase();
}

/** Seconds until `email` may try again, or 0 when it may now. */
export function signInBlockedFor(email: string, now = Date.now()): number {
  const f = failures.get(key(email));
  if (!f) return 0;
  if (now - f.first >= FAILED_SIGN_IN_WINDOW_MS) {
    failures.delete(key(email));
    return 0;
  }
  return f.count >= MAX_FAILED_SIGN_INS ? Math.ceil((f.first + FAILED_SIGN_IN_WINDOW_MS - now) / 1000) : 0;
}

export function recordSignIn(email: string, ok: boolean, now = Date.now()): void {
  const k = key(email);
  if (ok) {
    failures.delete(k);
    return;
  }
  const f = failures.get(k);
  if (!f || now - f.first >= FAILED_SIGN_IN_WINDOW_MS) failures.set(k, { count: 1, first: now });
  else f.count++;
  // Bounded memory: forget the oldest entries first.
  if (failures.size > 100_000) failures.delete(failures.keys().next().value!);
}

/** Tests start from a clean slate. */
export function resetSignInThrottle(): void {
  failures.clear();
}
