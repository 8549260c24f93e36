import Link from "next/link";

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

export function Nav() {
  return (
    <header className="topbar">
      <Link href="/" className="brand">MergeScope</Link>
      <nav aria-label="Main">
        {links.map((l) => (
          <Link key={l.href} href={l.href}>{l.label}</Link>
        ))}
      </nav>
    </header>
  );
}
