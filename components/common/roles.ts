// Model roles as the UI names them.
export const MODEL_ROLES = ["BASE", "SFT", "CT", "CTSFT", "MERGED", "OTHER"] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

export const ROLE_LABELS: Record<ModelRole, string> = {
  BASE: "Base",
  SFT: "SFT (task-solving)",
  CT: "CT (continual pre-training)",
  CTSFT: "CTSFT (CT, then SFT)",
  MERGED: "Merged",
  OTHER: "Other",
};

export const TOKEN_ROLES: readonly string[] = ["CT", "CTSFT"];
