// `mergescope user add|list`: account administration from a shell on the
// server's machine (whoever can read the data directory is an admin anyway).
// `user add` prints a one-time sign-in link, like the first start does.
import { parseArgs } from "node:util";
import { CliUsageError } from "../command";
import { closeDb } from "../../db/client";
import { createInvite } from "../../services/auth/invites";
import { ROLES, roleSchema, type Role } from "../../services/auth/roles";
import { emailSchema } from "../../services/auth/schemas";
import { listUsers } from "../../services/auth/users";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { role: { type: "string" }, admin: { type: "boolean" }, json: { type: "boolean" } } });
  const [action, ...rest] = positionals;
  try {
    if (action === "add") {
      if (rest.length > 1) throw new CliUsageError("give at most one email address");
      if (values.admin && values.role && values.role !== "admin") throw new CliUsageError(`--admin and --role ${values.role} disagree`);
      const role = roleSchema.safeParse(values.admin ? "admin" : (values.role ?? "researcher"));
      if (!role.success) throw new CliUsageError(`--role must be one of ${ROLES.join(", ")}, got '${values.role}'`);
      let email: string | null = null;
      if (rest[0] !== undefined) {
        const e = emailSchema.safeParse(rest[0]);
        if (!e.success) throw new CliUsageError(`'${rest[0]}' is not an email address`);
        email = e.data;
      }
      const invite = await createInvite({ email, role: role.data as Role });
      if (values.json) console.log(JSON.stringify({ url: invite.url, email, role: role.data, expiresAt: invite.expiresAt }, null, 2));
      else
        console.log(
          `One-time sign-in link for ${email ?? "a new account"} (${role.data}), valid until ${invite.expiresAt.toISOString()}:\n\n    ${invite.url}\n\nSend it privately: whoever opens it first gets the account.`,
        );
      return 0;
    }
    if (action === "list") {
      const users = await listUsers();
      if (values.json) console.log(JSON.stringify(users, null, 2));
      else if (users.length === 0) console.log("no accounts yet (the server prints a first-admin link on start; or: mergescope user add --admin)");
      else for (const u of users) console.log([u.email.padEnd(32), u.role.padEnd(10), u.banned ? "blocked" : "", u.name].join("  ").trimEnd());
      return 0;
    }
    throw new CliUsageError(action ? `unknown action '${action}' (add, list)` : "say add or list");
  } finally {
    await closeDb();
  }
}
