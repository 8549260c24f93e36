// Prints the C++ sources of the addon for binding.gyp: the whole N-API-free
// core (core/**/*.cc) plus the thin N-API binding (binding/*.cc).
const fs = require("fs");
const path = require("path");
function walk(dir) {
  return fs.readdirSync(path.join(__dirname, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".cc") ? [path.join(dir, e.name)] : [],
  );
}
console.log([...walk("core"), ...walk("binding")].sort().join(" "));
