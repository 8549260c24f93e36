"use client";

import { keepPreviousData, skipToken, useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { useDebounced } from "@/components/common/use-debounced";
import { useUrlState } from "@/components/common/use-url-state";
import { useTRPC } from "@/components/providers/trpc";
import { GlobalParams } from "./global-params";
import { LayerStrip } from "./layer-strip";
import { LayerSwapPanel } from "./layer-swap-panel";
import { defaultNormalize } from "./methods";
import { MethodPicker } from "./method-picker";
import { ModelListEditor } from "./model-list-editor";
import { QueueMerge } from "./queue-merge";
import { RecipePreview } from "./recipe-preview";
import { SourcePicker } from "./source-picker";
import { SweepPanel } from "./sweep-panel";
import { fromSettings, newModelEntry, parseBuilderState, serializeBuilderState, switchMethod, toSettings, type BuilderState } from "./url-state";
import { YamlImport } from "./yaml-import";

const SLICE_COLORS = ["#bbf7d0", "#c7d2fe", "#fde68a", "#fbcfe8", "#a5f3fc"];

/**
 * The merge builder: every setting lives in the URL. The recipe is built and
 * validated on the server (builder.preview); merges and sweeps are queued
 * through the jobs procedures.
 */
export function MergeBuilder() {
  const trpc = useTRPC();
  const [state, setState] = useUrlState(parseBuilderState, serializeBuilderState);
  const patch = useCallback((p: Partial<BuilderState>) => setState((s) => ({ ...s, ...p })), [setState]);
  // Set once React has attached its handlers: until then a click on a controlled input is undone.
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);

  const models = useQuery(trpc.models.list.queryOptions({}));
  const experiments = useQuery(trpc.experiments.list.queryOptions({}));
  const experiment = useQuery(trpc.experiments.get.queryOptions(state.exp ? { id: state.exp } : skipToken));

  // Picking an experiment fills the base, the SFT model (favored) and its last CT checkpoint.
  const exp = experiment.data;
  // Once per chosen experiment: removing every model afterwards does not refill them.
  const filledFor = useRef<string | null>(state.models.length > 0 ? state.exp : null);
  useEffect(() => {
    if (state.models.length > 0) filledFor.current = state.exp;
    if (!exp || exp.id !== state.exp || state.models.length > 0 || filledFor.current === state.exp) return;
    filledFor.current = state.exp;
    const of = (role: string) => exp.models.filter((m) => m.role === role).map((m) => m.model);
    const sft = of("SFT")[0];
    const ct = of("CT").at(-1);
    setState((s) => ({
      ...s,
      base: of("BASE")[0]?.id ?? null,
      models: [
        ...(sft ? [{ ...newModelEntry(sft.id), favored: true }] : []),
        ...(ct ? [newModelEntry(ct.id)] : []),
      ],
    }));
  }, [exp, state.exp, state.models.length, setState]);

  const settings = useMemo(() => toSettings(state), [state]);
  const debounced = useDebounced(settings, 250);
  const preview = useQuery(trpc.builder.preview.queryOptions(debounced ?? skipToken, { placeholderData: keepPreviousData }));
  const stale = JSON.stringify(debounced) !== JSON.stringify(settings) || preview.isFetching || preview.isPlaceholderData;

  const all = models.data ?? [];
  const expCts = exp && exp.id === state.exp ? exp.models.filter((m) => m.role === "CT").map((m) => m.model) : [];
  const ctInRecipe = state.models.find((m) => expCts.some((c) => c.id === m.id))?.id ?? null;
  const sweepCheckpoints = state.exp ? expCts : all.filter((m) => m.role === "CT" || m.role === "CTSFT");
  const defaultCts = state.exp ? expCts.map((c) => c.id) : state.models.filter((m) => sweepCheckpoints.some((c) => c.id === m.id)).map((m) => m.id);
  const nameOf = (id: string) => all.find((m) => m.id === id)?.name ?? id;

  if (models.isPending || experiments.isPending) return <p role="status" className="muted">Loading models and experiments…</p>;
  if (models.isError) return <ErrorAlert error={models.error} prefix="Could not load the models:" />;
  if (experiments.isError) return <ErrorAlert error={experiments.error} prefix="Could not load the experiments:" />;

  return (
    <div className="builder" data-testid="merge-builder" data-hydrated={hydrated ? "true" : undefined}>
      <div>
        <section className="card stack" aria-labelledby="builder-source-title">
          <h2 id="builder-source-title">Models</h2>
          {all.length === 0 ? (
            <p className="empty">No models registered yet: register checkpoints on the Models page first.</p>
          ) : null}
          <SourcePicker
            experiments={experiments.data}
            experimentId={state.exp}
            experiment={exp}
            ctModelId={ctInRecipe}
            onExperiment={(id) => patch({ exp: id, ...(id ? { base: null, models: [], sweepCts: null, sweepDensities: null } : {}) })}
            onCheckpoint={(id) =>
              patch({
                models:
                  ctInRecipe === null
                    ? [...state.models, newModelEntry(id)]
                    : state.models.map((m) => (m.id === ctInRecipe ? { ...m, id } : m)),
              })
            }
          />
          {state.exp && experiment.isError ? <ErrorAlert error={experiment.error} prefix="Could not load the experiment:" /> : null}
          {state.slices ? (
            <div className="stack" data-testid="builder-slices">
              <p className="hint">
                This recipe takes layer ranges from each model (<code>slices:</code>, {state.slices.length} slices); its YAML lists them.
              </p>
              <LayerStrip slices={state.slices} nameOf={nameOf} colorOf={(id) => SLICE_COLORS[state.models.findIndex((m) => m.id === id) % SLICE_COLORS.length] ?? SLICE_COLORS[0]!} />
              <div>
                <button type="button" className="btn btn-small" onClick={() => setState((s) => ({ ...s, slices: undefined }))}>
                  Use whole models
                </button>
              </div>
            </div>
          ) : (
            <ModelListEditor
              models={all}
              method={state.method}
              layers={state.layers}
              base={state.base}
              entries={state.models}
              onBase={(base) => patch({ base })}
              onEntries={(entries) =>
                setState((s) => ({
                  ...s,
                  models: entries,
                  // the sweep's density lists follow the models by position
                  sweepDensities: entries.length === s.models.length ? s.sweepDensities : null,
                }))
              }
            />
          )}
        </section>
        <section className="card stack" aria-labelledby="builder-method-title">
          <h2 id="builder-method-title" className="sr-only">Method and parameters</h2>
          <MethodPicker
            value={state.method}
            onChange={(method) => setState((s) => switchMethod(s, method))}
          />
          <GlobalParams method={state.method} value={state} onChange={patch} />
        </section>
        {all.length > 0 ? (
          <LayerSwapPanel
            models={all}
            state={state}
            nameOf={nameOf}
            onLayers={(layers) => patch({ layers })}
            onApply={(swap, lm, task) =>
              setState((s) => ({
                ...s,
                method: swap.method,
                base: null,
                normalize: defaultNormalize(swap.method),
                models: [newModelEntry(lm), newModelEntry(task)],
                slices: swap.slices,
                sweepDensities: null,
              }))
            }
          />
        ) : null}
        <YamlImport onLoad={(x) => setState((s) => fromSettings(x, s))} />
      </div>
      <div className="builder-side">
        <RecipePreview preview={preview.data} pending={preview.isPending && debounced !== null} error={preview.isError ? preview.error : null} stale={stale} />
        <section className="card" aria-label="Queue">
          <QueueMerge preview={preview.data} ready={!stale} experimentId={state.exp} />
        </section>
        <SweepPanel state={state} onChange={patch} settings={settings} checkpoints={sweepCheckpoints} defaultCts={defaultCts} nameOf={nameOf} />
      </div>
    </div>
  );
}
