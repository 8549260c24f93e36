#include "path_policy.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "errors.h"

namespace ms {

namespace {

std::string real_path(const std::string& p, bool* ok) {
  char* r = ::realpath(p.c_str(), nullptr);
  *ok = r != nullptr;
  if (!r) return {};
  std::string out(r);
  ::free(r);
  return out;
}

std::string roots_list(const PathPolicy& policy) {
  std::string s;
  for (size_t i = 0; i < policy.roots.size(); ++i) s += (i ? ", " : "") + policy.roots[i];
  return s.empty() ? "none exists" : s;
}

[[noreturn]] void refuse(const PathPolicy& policy, const std::string& path, const std::string& real) {
  throw MergeError(ErrorCode::PATH_NOT_ALLOWED,
                   path + (real.empty() || real == path ? "" : " resolves to " + real + ", which") +
                       " is outside the allowed model roots (" + roots_list(policy) +
                       "): the engine reads only files inside MERGESCOPE_MODEL_ROOTS and checks every file it opens, "
                       "so a symlink that leads out of them (the model folder itself, or a shard inside it) is refused. "
                       "Copy the files under a root or add their folder to MERGESCOPE_MODEL_ROOTS.");
}

// The path of an open descriptor, or "" when the platform cannot tell.
std::string fd_path(int fd, const std::string& opened_as) {
#if defined(__linux__)
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  std::string buf(PATH_MAX, '\0');
  const ssize_t n = ::readlink(link, buf.data(), buf.size());
  if (n > 0 && size_t(n) < buf.size() && buf[0] == '/') {
    buf.resize(size_t(n));
    return buf;
  }
#elif defined(__APPLE__)
  char buf[PATH_MAX];
  if (::fcntl(fd, F_GETPATH, buf) != -1) return std::string(buf);
#endif
  // Elsewhere: realpath of the name, accepted only if it is still the same file.
  bool ok = false;
  const std::string real = real_path(opened_as, &ok);
  struct stat a, b;
  if (ok && ::fstat(fd, &a) == 0 && ::stat(real.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
    return real;
  return {};
}

}  // namespace

PathPolicy make_path_policy(const std::vector<std::string>& roots) {
  PathPolicy p;
  p.enabled = true;
  for (const auto& r : roots) {
    bool ok = false;
    std::string real = real_path(r, &ok);
    if (ok) p.roots.push_back(std::move(real));
  }
  return p;
}

bool path_inside(const PathPolicy& policy, const std::string& real) {
  for (const auto& root : policy.roots) {
    if (real == root) return true;
    const std::string prefix = root.back() == '/' ? root : root + "/";
    if (real.size() > prefix.size() && real.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

void check_path_inside(const PathPolicy& policy, const std::string& path) {
  if (!policy.enabled) return;
  bool ok = false;
  const std::string real = real_path(path, &ok);
  if (ok) {
    if (!path_inside(policy, real)) refuse(policy, path, real);
    return;
  }
  // Missing (or a loop): judged by its deepest existing ancestor with the missing tail
  // appended, so a refusal says nothing about what exists outside; inside, the caller's own
  // open/stat error follows.
  std::string cur = path;
  while (true) {
    const size_t s = cur.find_last_of('/');
    if (s == std::string::npos) return;
    cur = s == 0 ? "/" : cur.substr(0, s);
    const std::string anc = real_path(cur, &ok);
    if (ok) {
      const std::string tail = path.substr(cur == "/" ? 0 : cur.size());
      const std::string candidate = anc == "/" ? tail : anc + tail;
      if (!path_inside(policy, candidate)) refuse(policy, path, "");
      return;
    }
    if (cur == "/") return;
  }
}

void check_fd_inside(const PathPolicy& policy, int fd, const std::string& path) {
  if (!policy.enabled) return;
  const std::string real = fd_path(fd, path);
  if (real.empty())
    throw MergeError(ErrorCode::PATH_NOT_ALLOWED,
                     path + ": cannot tell where the opened file lies (it changed while being opened?), so it is not read");
  if (!path_inside(policy, real)) refuse(policy, path, real);
}

}  // namespace ms
