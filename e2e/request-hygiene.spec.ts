// Request hygiene against the production server: a page on another site cannot
// change anything (form posts of every encoding, fetch no-cors), a foreign Host
// is refused on every route (DNS rebinding), and every response carries the
// security headers while the app still works under its CSP.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test, type APIRequestContext } from "./support/fixtures";
import { trpcMutation, trpcQuery } from "./support/api";
import { watchConsoleErrors } from "./support/console";

const port = Number(process.env.E2E_PORT ?? 3210);
const target = `http://127.0.0.1:${port}`;

interface Mapping {
  task: string;
  benchmark: string;
  language: string;
  metric: string;
  filter: string;
  scale: number;
  priority: number;
}

/** An attacker's page: posts forms in every encoding and no-cors fetches to mutations, then says "done". */
function attackPage(experimentId: string): string {
  const api = `${target}/api/trpc`;
  const form = (name: string, action: string, enctype: string, fields: Record<string, string>) =>
    `<iframe name="${name}-frame"></iframe><form id="${name}" method="POST" action="${action}" enctype="${enctype}" target="${name}-frame">` +
    Object.entries(fields)
      .map(([k, v]) => `<input type="hidden" name='${k.replace(/'/g, "&#39;")}' value='${v.replace(/'/g, "&#39;")}'>`)
      .join("") +
    "</form>";
  // text/plain forms can smuggle a JSON body: name={"json":{"id":"X","pad":" value=x"}}
  const jsonish = { [`{"json":{"id":"${experimentId}","pad":"`]: `x"}}` };
  return `<!doctype html><html><body>
${form("reset-multipart", `${api}/scores.catalogue.reset`, "multipart/form-data", { x: "1" })}
${form("reset-urlencoded", `${api}/scores.catalogue.reset`, "application/x-www-form-urlencoded", { x: "1" })}
${form("reset-plain", `${api}/scores.catalogue.reset`, "text/plain", { x: "1" })}
${form("delete-plain", `${api}/experiments.delete`, "text/plain", jsonish)}
${form("delete-multipart", `${api}/experiments.delete`, "multipart/form-data", { id: experimentId })}
<script>
(async () => {
  const forms = [...document.forms];
  await Promise.all(forms.map((f) => new Promise((resolve) => {
    const frame = document.getElementsByName(f.target)[0];
    frame.addEventListener("load", resolve, { once: true });
    setTimeout(resolve, 5000);
    f.submit();
  })));
  const body = JSON.stringify({ json: { id: ${JSON.stringify(experimentId)} } });
  const posts = [
    ["${api}/scores.catalogue.reset", undefined, undefined],
    ["${api}/scores.catalogue.reset", new Blob(["{}"], { type: "text/plain" }), undefined],
    ["${api}/experiments.delete", body, { "Content-Type": "application/json" }],
    ["${api}/experiments.delete", body, { "Content-Type": "text/plain" }],
    ["${api}/experiments.delete", new URLSearchParams({ id: ${JSON.stringify(experimentId)} }), undefined],
  ];
  for (const [url, b, headers] of posts) {
    try { await fetch(url, { method: "POST", mode: "no-cors", body: b, headers, credentials: "include" }); } catch {}
  }
  // A CORS request with JSON needs a preflight the server never grants.
  try { await fetch("${api}/scores.catalogue.reset", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }); } catch {}
  document.title = "done";
})();
</script></body></html>`;
}

/** The signed-in session's Cookie header, for raw requests (they carry no cookie jar). */
async function sessionCookie(request: APIRequestContext): Promise<string> {
  return (await request.storageState()).cookies.map((c) => `${c.name}=${c.value}`).join("; ");
}

/** A raw request with any Host header (browsers and Playwright's client set their own). */
function rawRequest(opts: { path: string; host: string; method?: string; headers?: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: opts.path, method: opts.method ?? "GET", headers: { host: opts.host, ...opts.headers } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

test.describe("Request hygiene", () => {
  test("should let a cross-site page change nothing with form posts and no-cors fetches", async ({ page, request }) => {
    // State the attack would change: a custom catalogue row (reset drops it) and an experiment (delete removes it).
    const custom: Mapping = { task: "csrf_probe_task", benchmark: "CSRF", language: "zzz", metric: "acc", filter: "none", scale: 100, priority: 5 };
    // Retried: right after start the demo's first analyses hold SQLite's write lock for a while.
    await expect(async () => {
      await trpcMutation(request, "scores.catalogue.upsert", custom);
    }).toPass({ timeout: 90_000 });
    const experiments = await trpcQuery<{ id: string; name: string }[]>(request, "experiments.list");
    expect(experiments.length).toBeGreaterThan(0);
    const victim = experiments[0]!;

    const seen: { method: string; url: string; origin?: string }[] = [];
    const attacker = http.createServer((req, res) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "" });
      res.writeHead(200, { "content-type": "text/html" }).end(attackPage(victim.id));
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    const attackerPort = (attacker.address() as AddressInfo).port;
    const sent: string[] = [];
    const responses: { url: string; status: number }[] = [];
    page.on("request", (r) => {
      if (r.url().startsWith(target)) sent.push(r.url());
    });
    page.on("response", (r) => {
      if (r.url().startsWith(target)) responses.push({ url: r.url(), status: r.status() });
    });
    try {
      // localhost vs 127.0.0.1: another site, as a page on the internet would be.
      await page.goto(`http://localhost:${attackerPort}/`);
      await expect(page).toHaveTitle("done", { timeout: 30_000 });
    } finally {
      attacker.close();
    }
    expect(seen.length).toBeGreaterThan(0);
    // Every form and fetch was sent (5 forms, 5 no-cors fetches, 1 CORS attempt). The answers the
    // browser lets the page see are refusals — cross-origin (403) or not JSON (415), not a 200 and
    // not a failure for another reason; the others it blocks itself (CORP / frame-ancestors).
    expect(sent.filter((u) => u.includes("/api/trpc/")).length).toBeGreaterThanOrEqual(11);
    expect(responses.length).toBeGreaterThanOrEqual(5);
    for (const r of responses) expect([403, 415], `${r.url} answered ${r.status}`).toContain(r.status);

    const catalogue = await trpcQuery<Mapping[]>(request, "scores.catalogue.list");
    expect(catalogue.find((m) => m.task === custom.task), "the custom mapping survives (no reset happened)").toBeTruthy();
    const after = await trpcQuery<{ id: string }[]>(request, "experiments.list");
    expect(after.map((e) => e.id)).toContain(victim.id);
  });

  test("should answer a foreign Host with 4xx on pages, assets and the API", async ({ request }) => {
    const home = await request.get("/");
    expect(home.status()).toBe(200);
    const cookie = await sessionCookie(request);
    const asset = /\/_next\/static\/[^"']+\.js/.exec(await home.text())?.[0];
    expect(asset, "the home page links a script").toBeTruthy();
    for (const p of ["/", "/models", asset!, "/api/trpc/health.status", "/api/trpc/experiments.list"]) {
      const foreign = await rawRequest({ path: p, host: `rebind.evil.example:${port}`, headers: { cookie } });
      expect(foreign.status, `${p} with a foreign Host`).toBe(421);
      expect(foreign.body).toContain("MERGESCOPE_ALLOWED_HOSTS");
      const ok = await rawRequest({ path: p, host: `127.0.0.1:${port}`, headers: { cookie } });
      expect(ok.status, `${p} with the loopback Host`).toBe(200);
    }
    const post = await rawRequest({ path: "/api/trpc/scores.catalogue.reset", host: `rebind.evil.example:${port}`, method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(post.status).toBe(421);
  });

  test("should refuse mutations that are not application/json or come from another origin", async () => {
    const host = `127.0.0.1:${port}`;
    const reset = "/api/trpc/scores.catalogue.reset";
    for (const type of ["multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "text/plain", "application/octet-stream"]) {
      const r = await rawRequest({ path: reset, host, method: "POST", headers: { "content-type": type }, body: "--x--" });
      expect(r.status, type).toBe(415);
    }
    const cross = await rawRequest({ path: reset, host, method: "POST", headers: { "content-type": "application/json", origin: "http://localhost:9999" }, body: "{}" });
    expect(cross.status).toBe(403);
    expect(cross.body).toContain("origin");
    const fetchSite = await rawRequest({ path: reset, host, method: "POST", headers: { "content-type": "application/json", "sec-fetch-site": "cross-site" }, body: "{}" });
    expect(fetchSite.status).toBe(403);
    const big = await rawRequest({ path: "/api/trpc/experiments.create", host, method: "POST", headers: { "content-type": "application/json" }, body: "x".repeat(2 * 1024 * 1024) });
    expect(big.status).toBe(413);
  });

  test("should send the security headers and keep the app working under its CSP", async ({ page, request }) => {
    const errors = watchConsoleErrors(page);
    const csp: string[] = [];
    page.on("response", (r) => {
      const v = r.headers()["content-security-policy"];
      if (v && r.request().resourceType() === "document") csp.push(v);
    });
    const res = await page.goto("/paper");
    const h = res!.headers();
    expect(h["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(h["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'/);
    expect(h["x-content-type-options"]).toBe("nosniff");
    expect(h["referrer-policy"]).toBe("same-origin");
    expect(h["x-frame-options"]).toBe("DENY");
    // The API and static assets carry them too.
    const api = await request.get("/api/trpc/health.status");
    expect(api.headers()["x-content-type-options"]).toBe("nosniff");
    expect(api.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    // React hydrates and Recharts draws (inline styles allowed, scripts only with the nonce).
    await expect(page.getByTestId("paper-table3-chart").locator(".recharts-bar-rectangle").first()).toBeVisible();
    expect(errors.filter((e) => /Content Security Policy|Refused to/.test(e))).toEqual([]);
    // A fresh nonce per page load.
    await page.reload();
    expect(new Set(csp).size).toBe(2);
  });
});
