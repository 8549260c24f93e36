"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/trpc";
import { languageName, parseLanguageCode } from "@/server/services/languages/codes";

/** Whether a typed language code is acceptable (empty counts as valid when the field is optional). */
export function languageProblem(value: string, required = false): string | null {
  if (!value.trim()) return required ? "a language code is required" : null;
  const r = parseLanguageCode(value);
  return r.ok ? null : r.error;
}

/** code → display name: a name users gave the language (Language table), else the built-in one, else the code. */
export function useLanguageNames(): (code: string) => string {
  const trpc = useTRPC();
  const languages = useQuery(trpc.scores.catalogue.languages.queryOptions(undefined, { staleTime: 60_000 }));
  return (code) => languages.data?.find((l) => l.code === code)?.name ?? languageName(code);
}

/**
 * A language code field: suggests the known languages (3-letter codes with their names), accepts
 * `xka` or `xka_Geor`, and says at once why a 2-letter code or garbage is refused (the server
 * refuses it with the same message).
 */
export function LanguageInput({
  id,
  value,
  onChange,
  required,
  size = 10,
  ariaLabel,
}: {
  id: string;
  value: string;
  onChange: (value: string) => void;
  required?: boolean;
  size?: number;
  ariaLabel?: string;
}) {
  const trpc = useTRPC();
  const languages = useQuery(trpc.scores.catalogue.languages.queryOptions(undefined, { staleTime: 60_000 }));
  const problem = languageProblem(value);
  return (
    <>
      <input
        id={id}
        type="text"
        list={`${id}-languages`}
        required={required}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder="ben or xka_Geor"
        size={size}
        spellCheck={false}
        aria-label={ariaLabel}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-problem` : undefined}
      />
      <datalist id={`${id}-languages`}>
        {languages.data?.map((l) => (
          <option key={l.code} value={l.code}>
            {l.label}
          </option>
        ))}
      </datalist>
      {problem ? (
        <small id={`${id}-problem`} className="error" role="alert">
          {problem}
        </small>
      ) : null}
    </>
  );
}
