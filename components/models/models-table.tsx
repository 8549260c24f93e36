"use client";

import { useState } from "react";
import type { ModelSummary } from "@/server/services/models/schemas";
import { ModelRow } from "./model-row";
import { ModelRowEditor } from "./model-row-editor";

/** One row per model; a row turns into an editor in place. */
export function ModelsTable({ models }: { models: ModelSummary[] }) {
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <div className="table-wrap">
      <table className="data" data-testid="models-table">
        <caption className="sr-only">Registered models</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Language</th>
            <th scope="col" className="num">CT tokens</th>
            <th scope="col">Architecture</th>
            <th scope="col" className="num">Parameters</th>
            <th scope="col">Dtype</th>
            <th scope="col" className="num">Vocab</th>
            <th scope="col" className="num">Shards</th>
            <th scope="col" className="num">Size</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) =>
            editing === m.id ? (
              <ModelRowEditor key={m.id} model={m} onDone={() => setEditing(null)} />
            ) : (
              <ModelRow key={m.id} model={m} onEdit={() => setEditing(m.id)} />
            ),
          )}
        </tbody>
      </table>
    </div>
  );
}
