// Paths given by users: one normalization, realpath containment, and the one
// way files are opened (regular files only, containment re-checked on the
// descriptor). Every path-taking service and job goes through here.
export { PathError, PATH_RULES, showPath, type PathRule } from "./errors";
export { normalizePath, MAX_NAME_BYTES, MAX_PATH_BYTES } from "./normalize";
export { checkModelFolder, isInside, realRoots, resolveInside, type ContainOptions } from "./contain";
export { formatBytes } from "./format";
export { copyRegularFile, openRegularFile, readRegularFileText, readRegularFileTextSync, type OpenedFile, type OpenOptions } from "./open";
export { evaluateRoots, importRoots, modelRoots, MODEL_ROOTS_HINT } from "./roots";
