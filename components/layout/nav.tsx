import Link from "next/link";

const links = [{ href: "/", label: "Home" }];

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
