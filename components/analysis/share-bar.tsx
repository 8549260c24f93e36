"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useHasRole } from "@/components/auth/session-context";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { useIsPublicView } from "./public-view-context";

/** Addresses longer than this get the short link offered first. */
const LONG_URL = 180;

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission: fall back to a selected text area and execCommand.
    const ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    return ok;
  }
}

/**
 * "Copy link" copies the address bar (the whole view state is in it); "Short link"
 * saves the state as /v/<id>; both open for signed-in colleagues. "Public link"
 * (researchers) makes a read-only link to this view for people without an account.
 * Each shows the link, so it can be copied by hand too.
 */
export function ShareBar({ path, beforeShare }: { path: "/analysis" | "/analysis/compare"; beforeShare?: () => void }) {
  const trpc = useTRPC();
  const isPublic = useIsPublicView();
  const canPublish = useHasRole("researcher");
  const [shown, setShown] = useState<{ url: string; kind: "full" | "short" | "public"; copied: boolean } | null>(null);
  const create = useMutation(trpc.views.create.mutationOptions());
  const publish = useMutation(trpc.views.publicLinks.create.mutationOptions());
  const current = () => window.location.href;
  if (isPublic) return null;

  const copyFull = async () => {
    beforeShare?.();
    const url = current();
    setShown({ url, kind: "full", copied: await copyText(url) });
  };
  const copyShort = async () => {
    beforeShare?.();
    const view = await create.mutateAsync({ path, query: window.location.search.replace(/^\?/, "") });
    const url = `${window.location.origin}/v/${view.id}`;
    setShown({ url, kind: "short", copied: await copyText(url) });
  };
  const makePublic = async () => {
    beforeShare?.();
    if (!window.confirm("Make a public link? Anyone who has it can see this view's charts and tables without an account, until you revoke it (Account page).")) return;
    const view = await create.mutateAsync({ path, query: window.location.search.replace(/^\?/, "") });
    const link = await publish.mutateAsync({ viewId: view.id });
    const url = `${window.location.origin}${link.path}`;
    setShown({ url, kind: "public", copied: await copyText(url) });
  };
  return (
    <div className="share-bar" data-testid="share-bar">
      <button type="button" className="btn btn-small" data-testid="copy-link" onClick={copyFull}>
        Copy link
      </button>
      <button type="button" className="btn btn-small" data-testid="short-link" onClick={copyShort} disabled={create.isPending}>
        {create.isPending ? "Saving…" : "Short link"}
      </button>
      {canPublish ? (
        <button type="button" className="btn btn-small" data-testid="public-link" onClick={makePublic} disabled={publish.isPending}>
          Public link
        </button>
      ) : null}
      {shown ? (
        <span className="share-out" role="status">
          <input
            type="text"
            readOnly
            value={shown.url}
            aria-label={shown.kind === "short" ? "Short link" : shown.kind === "public" ? "Public link (no account needed)" : "Link to this view"}
            data-testid={shown.kind === "short" ? "short-url" : shown.kind === "public" ? "public-url" : "share-url"}
            onFocus={(e) => e.currentTarget.select()}
          />
          <span className="muted">
            {shown.copied ? "copied" : "select and copy"}
            {shown.kind === "full" && shown.url.length > LONG_URL ? " — long link: the short link is easier to paste" : ""}
          </span>
        </span>
      ) : null}
      {create.isError ? <ErrorAlert error={create.error} prefix="Short link:" /> : null}
      {publish.isError ? <ErrorAlert error={publish.error} prefix="Public link:" /> : null}
    </div>
  );
}
