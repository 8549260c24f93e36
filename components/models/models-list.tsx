"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { ErrorAlert } from "@/components/common/error-alert";
import { MODEL_ROLES, type ModelRole } from "@/components/common/roles";
import { useDebounced } from "@/components/common/use-debounced";
import { useUrlState } from "@/components/common/use-url-state";
import { useTRPC } from "@/components/providers/trpc";
import { ModelFilters, type ModelFilterValues } from "./model-filters";
import { ModelsTable } from "./models-table";

const isRole = (r: string): r is ModelRole => (MODEL_ROLES as readonly string[]).includes(r);

function parseFilters(p: URLSearchParams): ModelFilterValues {
  return { role: p.get("role") ?? "", language: p.get("lang") ?? "", search: p.get("q") ?? "" };
}

function serializeFilters(f: ModelFilterValues): URLSearchParams {
  const p = new URLSearchParams();
  if (f.role) p.set("role", f.role);
  if (f.language) p.set("lang", f.language);
  if (f.search) p.set("q", f.search);
  return p;
}

/** The registered models, filtered by role, language and text (filters in the URL). */
export function ModelsList() {
  const trpc = useTRPC();
  const [filters, setFilters] = useUrlState(parseFilters, serializeFilters);
  const f = useDebounced(filters, 250);
  const list = useQuery(
    trpc.models.list.queryOptions(
      {
        ...(isRole(f.role) ? { role: [f.role] } : {}),
        ...(f.language.trim() ? { language: f.language.trim() } : {}),
        ...(f.search.trim() ? { search: f.search.trim() } : {}),
      },
      { placeholderData: keepPreviousData },
    ),
  );
  const filtered = Boolean(filters.role || filters.language || filters.search);
  return (
    <section className="card stack" aria-labelledby="models-list-title" data-testid="models-list">
      <h2 id="models-list-title">Registered models</h2>
      <ModelFilters value={filters} onChange={(patch) => setFilters((old) => ({ ...old, ...patch }))} />
      {list.isPending ? (
        <p role="status" className="muted">Loading models…</p>
      ) : list.isError ? (
        <ErrorAlert error={list.error} prefix="Could not load the models:" />
      ) : list.data.length === 0 ? (
        <p className="empty" data-testid="models-empty">
          {filtered ? "No model matches these filters." : "No models registered yet: register a checkpoint or a folder of CT checkpoints above."}
        </p>
      ) : (
        <ModelsTable models={list.data} />
      )}
    </section>
  );
}
