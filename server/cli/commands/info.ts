import { parseArgs } from "node:util";
import { loadNative } from "../../engine/native";

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: "boolean" } }, strict: true });
  const info = loadNative().engineInfo();
  if (values.json) {
    console.log(JSON.stringify(info, null, 2));
  } else {
    console.log(`MergeScope native engine ${info.version} (${info.compiler}, N-API ${info.napiVersion})`);
    console.log(`threads:  ${info.hardwareThreads}`);
    console.log(`cpu:      ${info.cpuFeatures.join(" ") || "baseline"}`);
    console.log(`methods:  ${info.methods.join(", ")}`);
    console.log(`dtypes:   ${info.dtypes.join(", ")}`);
  }
  return 0;
}
