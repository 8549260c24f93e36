// Which files the engine may open: when a policy is given (the server's
// workers pass MERGESCOPE_MODEL_ROOTS), every model path and every file the
// engine opens — index, shards, single files — must resolve inside one of its
// roots. The check runs on the opened descriptor's own path (/proc/self/fd on
// Linux, F_GETPATH on macOS), i.e. on exactly the file that is read: a checked
// folder swapped for a symlink before the engine runs, or a shard symlink that
// leads out of the model folder, is refused (PATH_NOT_ALLOWED). Without a
// policy (the local CLI) every readable file is allowed.
#pragma once
#include <string>
#include <vector>

namespace ms {

struct PathPolicy {
  bool enabled = false;
  std::vector<std::string> roots;  // realpaths of the allowed folders that exist
};

// Resolves each root with realpath(3); missing roots allow nothing.
PathPolicy make_path_policy(const std::vector<std::string>& roots);

// True when `real` (absolute, resolved) is a root or lies below one, compared by whole components.
bool path_inside(const PathPolicy& policy, const std::string& real);

// Throws PATH_NOT_ALLOWED when realpath(path) is outside the roots (no-op when disabled).
// A path that cannot be resolved is left to the caller's own open/stat error.
void check_path_inside(const PathPolicy& policy, const std::string& path);

// Throws PATH_NOT_ALLOWED when the file open at `fd` (opened as `path`) is
// outside the roots, or when its path cannot be determined (no-op when disabled).
void check_fd_inside(const PathPolicy& policy, int fd, const std::string& path);

}  // namespace ms
