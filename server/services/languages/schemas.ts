// Language codes at the API boundary: parsed once (server/services/languages/codes.ts),
// refused with the parser's message, passed on in canonical form (`xka_Geor`, `xka`).
import { z } from "zod";
import { formatLanguageCode, parseLanguageCode } from "./codes";

/** `xka`, `xka_Geor`, `XKA_geor` → "xka_Geor"; a 2-letter code or garbage is refused with what to write instead. */
export const languageCodeInput = z
  .string()
  .max(64)
  .transform((s, ctx) => {
    const r = parseLanguageCode(s);
    if (!r.ok) {
      ctx.addIssue({ code: "custom", message: r.error });
      return z.NEVER;
    }
    return formatLanguageCode(r.value);
  });

/** The same for an optional field: undefined stays undefined (unchanged), null or "" is null (none). */
export const optionalLanguageCodeInput = z
  .string()
  .max(64)
  .nullable()
  .transform((s, ctx) => {
    if (s === null || !s.trim()) return null;
    const r = parseLanguageCode(s);
    if (!r.ok) {
      ctx.addIssue({ code: "custom", message: r.error });
      return z.NEVER;
    }
    return formatLanguageCode(r.value);
  })
  .optional();

/** A display name a user gives a language the built-in tables do not name (Mingrelian). */
export const languageNameInput = z.string().trim().min(1).max(100);

export const languageRowSchema = z.object({
  code: z.string(),
  script: z.string().nullable(),
  /** The FLORES-style code when the script is known (xka_Geor), else the code. */
  flores: z.string(),
  name: z.string(),
  /** How it is labelled in lists: "Mingrelian (xka_Geor)". */
  label: z.string(),
  catalogueTasks: z.number(),
});
export type LanguageRow = z.infer<typeof languageRowSchema>;
