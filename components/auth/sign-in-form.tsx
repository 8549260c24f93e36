"use client";

import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { useId, useState } from "react";
import { useTRPC } from "@/components/providers/trpc";
import { authClient, safeNext } from "./auth-client";

/** Email + password (and single sign-on when configured); back to the page you came from afterwards. */
export function SignInForm() {
  const trpc = useTRPC();
  const params = useSearchParams();
  const next = safeNext(params.get("next"));
  const options = useQuery(trpc.auth.signInOptions.queryOptions());
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = { email: useId(), password: useId() };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const r = await authClient.signIn.email({ email, password });
    if (r.error) {
      setBusy(false);
      setError(r.error.status === 429 ? (r.error.message ?? "too many attempts: wait a few minutes") : r.error.status === 401 ? "wrong email or password" : (r.error.message ?? `sign-in failed (${r.error.status})`));
      return;
    }
    window.location.assign(next);
  };
  const sso = async () => {
    setBusy(true);
    const r = await authClient.signIn.social({ provider: options.data!.sso!.providerId, callbackURL: next });
    if (r.error) {
      setBusy(false);
      setError(r.error.message ?? "single sign-on failed");
    }
  };

  return (
    <section className="card auth-card" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      {options.data?.needsFirstAdmin ? (
        <p className="alert alert-warn" role="status" data-testid="needs-first-admin">
          This server has no account yet. Open the one-time link that <code>npm start</code> printed in its terminal (or run <code>npx mergescope user add --admin</code> on the
          server) to become its first admin.
        </p>
      ) : null}
      <form className="stack" onSubmit={submit}>
        <div className="field">
          <label htmlFor={ids.email}>Email</label>
          <input id={ids.email} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.password}>Password</label>
          <input id={ids.password} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
        <div className="btn-row">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
          {options.data?.sso ? (
            <button type="button" className="btn" onClick={sso} disabled={busy}>
              Sign in with {options.data.sso.name}
            </button>
          ) : null}
        </div>
      </form>
      {error ? (
        <p role="alert" className="alert alert-error" data-testid="signin-error">
          {error}
        </p>
      ) : null}
      <p className="hint">No account? Ask an admin of this server for a sign-in link.</p>
    </section>
  );
}
