"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { useId, useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { ROLE_DESCRIPTIONS } from "@/server/services/auth/roles";
import { authClient } from "./auth-client";

/** A one-time sign-in link: choose a password (and, for the first admin, the email), then you are signed in. */
export function SetupForm() {
  const trpc = useTRPC();
  const token = useSearchParams().get("token") ?? "";
  const invite = useQuery({ ...trpc.auth.invite.queryOptions({ token }), enabled: token.length > 0, retry: false });
  const accept = useMutation(trpc.auth.acceptInvite.mutationOptions());
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState<string | null>(null);
  const ids = { name: useId(), email: useId(), password: useId(), again: useId() };

  if (!token) return <p className="alert alert-error">This page needs the one-time link you were given (it ends with ?token=…).</p>;
  if (invite.isError) return <ErrorAlert error={invite.error} testId="setup-error" />;
  if (!invite.data) return <p className="muted" role="status">Checking the link…</p>;
  const info = invite.data;

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    if (password !== again) return setError("the two passwords differ");
    const r = await accept.mutateAsync({ token, name, email: info.email ?? email, password }).catch(() => null);
    if (!r) return;
    const signIn = await authClient.signIn.email({ email: r.email, password });
    if (signIn.error) return setError(`your account was created, but signing in failed: ${signIn.error.message ?? signIn.error.status}. Sign in on the sign-in page.`);
    window.location.assign("/");
  };

  return (
    <section className="card auth-card" aria-labelledby="setup-title">
      <h1 id="setup-title">{info.firstAdmin ? "Set up MergeScope" : "Create your account"}</h1>
      <p className="lead">
        {info.firstAdmin
          ? "You are the first admin of this server: choose your email and password. You can invite the rest of the lab afterwards (Admin page)."
          : `You are invited as ${info.role} (${ROLE_DESCRIPTIONS[info.role]}). Choose your password.`}
      </p>
      <form className="stack" onSubmit={submit}>
        <div className="field">
          <label htmlFor={ids.name}>Name</label>
          <input id={ids.name} type="text" autoComplete="name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.email}>Email</label>
          {info.email ? (
            <input id={ids.email} type="email" value={info.email} readOnly />
          ) : (
            <input id={ids.email} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
          )}
        </div>
        <div className="field">
          <label htmlFor={ids.password}>Password (at least 10 characters)</label>
          <input id={ids.password} type="password" autoComplete="new-password" required minLength={10} value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.again}>Password again</label>
          <input id={ids.again} type="password" autoComplete="new-password" required minLength={10} value={again} onChange={(e) => setAgain(e.target.value)} />
        </div>
        <div className="btn-row">
          <button type="submit" className="btn btn-primary" disabled={accept.isPending}>
            {info.firstAdmin ? "Create the admin account" : "Create my account"}
          </button>
        </div>
      </form>
      {accept.isError ? <ErrorAlert error={accept.error} testId="setup-error" /> : null}
      {error ? (
        <p role="alert" className="alert alert-error">
          {error}
        </p>
      ) : null}
    </section>
  );
}
