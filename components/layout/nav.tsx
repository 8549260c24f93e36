import Link from "next/link";
import { AccountMenu } from "@/components/auth/account-menu";
import type { UserSummary } from "@/server/services/auth/schemas";

const links = [
  { href: "/", label: "Home" },
  { href: "/experiments", label: "Experiments" },
  { href: "/models", label: "Models" },
  { href: "/builder", label: "Merge builder" },
  { href: "/jobs", label: "Jobs" },
  { href: "/analysis", label: "Analysis" },
  { href: "/scores", label: "Scores" },
  { href: "/paper", label: "Paper results" },
];

export function Nav({ user }: { user: UserSummary | null }) {
  return (
    <header className="topbar">
      <Link href="/" className="brand">MergeScope</Link>
      <nav aria-label="Main">
        {links.map((l) => (
          <Link key={l.href} href={l.href}>{l.label}</Link>
        ))}
      </nav>
      {user ? <AccountMenu user={user} /> : null}
    </header>
  );
}
