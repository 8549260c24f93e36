import { parseArgs } from "node:util";
import { loadNative } from "../../engine/native";
import type { CliCommand } from "../command";

export const infoCommand: CliCommand = {
  name: "info",
  summary: "Show the native engine's version and capabilities",
  usage: "mergescope info [--json]",
  async run(argv) {
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
  },
};
