import { Suspense } from "react";
import { JobsTable } from "@/components/jobs/jobs-table";

export const metadata = { title: "Jobs — MergeScope" };

export default function JobsPage() {
  return (
    <>
      <h1>Jobs</h1>
      <p className="lead">Merges and analyses queued to the workers, with live progress. Filters are kept in the address bar.</p>
      <Suspense fallback={<p className="muted">Loading…</p>}>
        <JobsTable />
      </Suspense>
    </>
  );
}
