// Reading a figure as the user sees it: its data table (header + rows of cell text) and a column of it.
import { expect, type Locator, type Page } from "@playwright/test";

/** The figure's data table (opened if needed) as header + rows of cell text. */
export async function tableOf(figure: Locator): Promise<string[][]> {
  const table = figure.getByTestId("data-table");
  if (!(await table.isVisible())) await figure.getByTestId("data-table-toggle").click();
  await expect(table).toBeVisible();
  return table.locator("tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("th,td")].map((c) => c.textContent ?? "")));
}

/** The cells of one column (by header text) below the header. */
export function column(rows: string[][], name: string): string[] {
  const col = rows[0]!.indexOf(name);
  expect(col, `column ${name} in ${rows[0]!.join(" | ")}`).toBeGreaterThanOrEqual(0);
  return rows.slice(1).map((r) => r[col]!);
}

/** Drops files on the scores page's drop zone as a browser drag-and-drop would. */
export async function dropFiles(page: Page, files: { name: string; text: string }[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([f.text], f.name, { type: "application/json" }));
    return dt;
  }, files);
  const zone = page.getByTestId("scores-dropzone");
  await expect(zone).toHaveAttribute("data-ready", "true");
  await zone.dispatchEvent("dragenter", { dataTransfer });
  await zone.dispatchEvent("dragover", { dataTransfer });
  await zone.dispatchEvent("drop", { dataTransfer });
}
