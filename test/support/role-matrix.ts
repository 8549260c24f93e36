// Who may call each tRPC procedure: the expectation table of the role matrix.
// test/unit/auth/role-matrix.test.ts checks that it lists exactly the
// procedures of appRouter, with the role each declares, and calls every one as
// anonymous, viewer, researcher, admin and a public view link;
// e2e/roles.spec.ts makes the same calls over HTTP. A new procedure needs its
// row here, or both fail.
export type Access = "public" | "shared-chart" | "viewer" | "researcher" | "admin";
export type Caller = "anonymous" | "viewer" | "researcher" | "admin" | "public-link";

export const EXPECTED_ACCESS: Record<string, { access: Access; type: "query" | "mutation" }> = {
  "health.status": { access: "public", type: "query" },
  "auth.signInOptions": { access: "public", type: "query" },
  "auth.invite": { access: "public", type: "query" },
  "auth.acceptInvite": { access: "public", type: "mutation" },

  "charts.geometry": { access: "shared-chart", type: "query" },
  "charts.methods": { access: "shared-chart", type: "query" },
  "charts.sweep": { access: "shared-chart", type: "query" },
  "charts.figure2": { access: "shared-chart", type: "query" },
  "charts.heatmap": { access: "shared-chart", type: "query" },
  "charts.compare": { access: "shared-chart", type: "query" },
  "charts.scoreStats": { access: "shared-chart", type: "query" },

  "account.me": { access: "viewer", type: "query" },
  "account.tokens.list": { access: "viewer", type: "query" },
  "account.tokens.create": { access: "viewer", type: "mutation" },
  "account.tokens.revoke": { access: "viewer", type: "mutation" },
  "jobs.list": { access: "viewer", type: "query" },
  "jobs.groups": { access: "viewer", type: "query" },
  "jobs.get": { access: "viewer", type: "query" },
  "scores.list": { access: "viewer", type: "query" },
  "scores.imports": { access: "viewer", type: "query" },
  "scores.models": { access: "viewer", type: "query" },
  "scores.unattached": { access: "viewer", type: "query" },
  "scores.averages": { access: "viewer", type: "query" },
  "scores.catalogue.list": { access: "viewer", type: "query" },
  "scores.catalogue.unmapped": { access: "viewer", type: "query" },
  "scores.catalogue.languages": { access: "viewer", type: "query" },
  "scores.catalogue.proposals": { access: "viewer", type: "query" },
  "scores.gridSearch": { access: "viewer", type: "query" },
  "scores.templates.list": { access: "viewer", type: "query" },
  "scores.paper.tables": { access: "viewer", type: "query" },
  "scores.paper.consistency": { access: "viewer", type: "query" },
  "scores.paper.overlay": { access: "viewer", type: "query" },
  "models.roots": { access: "viewer", type: "query" },
  "models.list": { access: "viewer", type: "query" },
  "models.get": { access: "viewer", type: "query" },
  "experiments.list": { access: "viewer", type: "query" },
  "experiments.overview": { access: "viewer", type: "query" },
  "experiments.get": { access: "viewer", type: "query" },
  "builder.preview": { access: "viewer", type: "query" },
  "builder.sweepPlan": { access: "viewer", type: "query" },
  "views.create": { access: "viewer", type: "mutation" },
  "views.get": { access: "viewer", type: "query" },

  "jobs.enqueue": { access: "researcher", type: "mutation" },
  "jobs.sweep": { access: "researcher", type: "mutation" },
  "jobs.cancel": { access: "researcher", type: "mutation" },
  "jobs.retry": { access: "researcher", type: "mutation" },
  "jobs.delete": { access: "researcher", type: "mutation" },
  "jobs.setPriority": { access: "researcher", type: "mutation" },
  "scores.importFile": { access: "researcher", type: "mutation" },
  "scores.importFiles": { access: "researcher", type: "mutation" },
  "scores.deleteImport": { access: "researcher", type: "mutation" },
  "scores.attach": { access: "researcher", type: "mutation" },
  "scores.catalogue.upsert": { access: "researcher", type: "mutation" },
  "scores.catalogue.remove": { access: "researcher", type: "mutation" },
  "scores.catalogue.addProposed": { access: "researcher", type: "mutation" },
  "scores.evaluate": { access: "researcher", type: "mutation" },
  "scores.evaluateExperiment": { access: "researcher", type: "mutation" },
  "models.register": { access: "researcher", type: "mutation" },
  "models.registerFolder": { access: "researcher", type: "mutation" },
  "models.update": { access: "researcher", type: "mutation" },
  "models.delete": { access: "researcher", type: "mutation" },
  "experiments.create": { access: "researcher", type: "mutation" },
  "experiments.update": { access: "researcher", type: "mutation" },
  "experiments.delete": { access: "researcher", type: "mutation" },
  "builder.parseYaml": { access: "researcher", type: "mutation" },
  "views.publicLinks.list": { access: "researcher", type: "query" },
  "views.publicLinks.create": { access: "researcher", type: "mutation" },
  "views.publicLinks.revoke": { access: "researcher", type: "mutation" },

  "scores.catalogue.reset": { access: "admin", type: "mutation" },
  "scores.templates.create": { access: "admin", type: "mutation" },
  "scores.templates.update": { access: "admin", type: "mutation" },
  "scores.templates.delete": { access: "admin", type: "mutation" },
  "admin.users.list": { access: "admin", type: "query" },
  "admin.users.setRole": { access: "admin", type: "mutation" },
  "admin.users.setBlocked": { access: "admin", type: "mutation" },
  "admin.users.remove": { access: "admin", type: "mutation" },
  "admin.invites.list": { access: "admin", type: "query" },
  "admin.invites.create": { access: "admin", type: "mutation" },
  "admin.invites.revoke": { access: "admin", type: "mutation" },
};

const RANK: Record<Caller, number> = { anonymous: -1, "public-link": -1, viewer: 0, researcher: 1, admin: 2 };
const NEEDED: Record<Exclude<Access, "public" | "shared-chart">, number> = { viewer: 0, researcher: 1, admin: 2 };

/**
 * Whether `caller` may call a procedure with this access. A public link may call
 * the shared-chart procedures with its own view's experiment only (`ownExperiment`).
 */
export function mayCall(access: Access, caller: Caller, ownExperiment = true): boolean {
  if (access === "public") return true;
  if (access === "shared-chart") return caller === "public-link" ? ownExperiment : RANK[caller] >= 0;
  return RANK[caller] >= NEEDED[access];
}

/** The error codes of a refusal by the role check (appCode in the tRPC error's data). */
export const DENIAL_CODES = ["SIGN_IN_REQUIRED", "ROLE_REQUIRED"] as const;
