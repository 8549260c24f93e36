// Streaming sharded safetensors writer; see shard_writer.h.
#include "shard_writer.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include "errors.h"
#include "json.h"

namespace ms {

namespace {

constexpr uint64_t kBufBytes = uint64_t(1) << 20;  // coalesce small writes
// Writeback of written data is started every this many bytes, so the disk
// works while the merge computes and the fsync at the end of a shard has
// little left to flush (instead of the whole shard at once).
constexpr uint64_t kWritebackBytes = uint64_t(32) << 20;
constexpr const char* kFixSpace = "Free up space or choose another output directory, then retry.";

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string gb(uint64_t b) {
  char s[32];
  std::snprintf(s, sizeof s, "%.2f GB", double(b) / 1e9);
  return s;
}

[[noreturn]] void io_fail(const std::string& path, const char* op, int e) {
  if (e == ENOSPC || e == EDQUOT)
    throw MergeError(ErrorCode::OUT_NO_SPACE,
                     path + ": " + (e == ENOSPC ? "no space left on device" : "disk quota exceeded") + " while " +
                         op + ". " + kFixSpace);
  if (e == EEXIST)
    throw MergeError(ErrorCode::OUT_EXISTS, path + ": already exists. Write into a fresh, empty directory.");
  throw MergeError(ErrorCode::OUT_IO, path + ": " + op + " failed: " + std::strerror(e) +
                                          ". Check that the output directory exists, is writable and the disk is healthy.");
}

void write_all(int fd, const uint8_t* p, uint64_t n, const std::string& path) {
  while (n > 0) {
    const size_t chunk = size_t(std::min<uint64_t>(n, uint64_t(1) << 30));
    const ssize_t w = ::write(fd, p, chunk);
    if (w < 0) {
      if (errno == EINTR) continue;
      io_fail(path, "writing", errno);
    }
    if (w == 0) io_fail(path, "writing", EIO);  // cannot happen for regular files; avoid spinning
    p += w;
    n -= uint64_t(w);
  }
}

void fsync_fd(int fd, const std::string& path) {
  int r;
  do { r = ::fsync(fd); } while (r != 0 && errno == EINTR);
  if (r != 0) io_fail(path, "flushing to disk (fsync)", errno);
}

void close_fd(int fd, const std::string& path) {
  // No retry on EINTR: on Linux the descriptor is released regardless.
  if (::close(fd) != 0 && errno != EINTR) io_fail(path, "closing", errno);
}

void fsync_dir(const std::string& dir) {
  int fd;
  do { fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); } while (fd < 0 && errno == EINTR);
  if (fd < 0) io_fail(dir, "opening the directory for fsync", errno);
  int r;
  do { r = ::fsync(fd); } while (r != 0 && errno == EINTR);
  const int e = errno;
  ::close(fd);
  // Some filesystems cannot fsync directories; the files themselves are synced.
  if (r != 0 && e != EINVAL && e != ENOTSUP && e != EROFS) io_fail(dir, "flushing the directory (fsync)", e);
}

// Hashing below this size stays on the writing thread (handoff not worth it).
constexpr uint64_t kParallelHashMin = uint64_t(256) << 10;

}  // namespace

// Runs one Sha256::update at a time on a helper thread (started on first use),
// so a piece is hashed while the writing thread hands it to write(): the two
// take about as long, and the shard's hash order stays the write order.
class ParallelHasher {
 public:
  ~ParallelHasher() {
    if (!th_.joinable()) return;
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    th_.join();
  }
  void start(Sha256* sha, const uint8_t* p, uint64_t n) {
    if (!th_.joinable()) th_ = std::thread([this] { run(); });
    {
      std::lock_guard<std::mutex> lk(mu_);
      sha_ = sha;
      p_ = p;
      n_ = n;
      busy_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return !busy_; });
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      cv_.wait(lk, [&] { return stop_ || busy_; });
      if (busy_) {
        Sha256* s = sha_;
        const uint8_t* p = p_;
        const uint64_t n = n_;
        lk.unlock();
        s->update(p, n);  // cannot throw
        lk.lock();
        busy_ = false;
        cv_.notify_all();
        continue;
      }
      if (stop_) return;
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  Sha256* sha_ = nullptr;
  const uint8_t* p_ = nullptr;
  uint64_t n_ = 0;
  bool busy_ = false, stop_ = false;
  std::thread th_;
};

namespace {

struct Plan {
  std::vector<uint64_t> nbytes;
  std::vector<uint32_t> shard_of;
  std::vector<std::string> filenames;
  std::vector<std::string> headers;
  std::vector<uint64_t> shard_bytes;
  std::string index_json;
};

[[noreturn]] void spec_bug(const std::string& where, const std::string& what) {
  throw MergeError(ErrorCode::INTERNAL, where + ": invalid output tensor spec: " + what);
}

Plan make_plan(const std::vector<OutTensorSpec>& specs, uint64_t max_shard_bytes, const StringPairs& metadata,
               const std::string& where) {
  if (max_shard_bytes == 0)
    throw MergeError(ErrorCode::RECIPE_INVALID, where + ": the maximum shard size must be at least 1 byte.");
  Plan p;
  const size_t n = specs.size();
  if (n > UINT32_MAX) spec_bug(where, "more than 2^32 tensors");
  p.nbytes.resize(n);
  p.shard_of.resize(n);
  std::unordered_set<std::string_view> names;
  names.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const OutTensorSpec& s = specs[i];
    std::string qn;
    json::append_quoted(&qn, s.name.substr(0, 200));
    if (!json::valid_utf8(nullptr, reinterpret_cast<const uint8_t*>(s.name.data()), s.name.size()))
      spec_bug(where, "tensor name " + qn + " is not valid UTF-8");
    if (s.name == "__metadata__") spec_bug(where, "a tensor cannot be named __metadata__");
    if (!names.insert(s.name).second) spec_bug(where, "tensor " + qn + " listed twice");
    if (static_cast<unsigned>(s.dtype) >= unsigned(kStDtypeCount)) spec_bug(where, "tensor " + qn + ": bad dtype");
    uint64_t numel = 1, bits;
    for (const uint64_t d : s.shape)
      if (__builtin_mul_overflow(numel, d, &numel)) spec_bug(where, "tensor " + qn + ": element count overflows");
    if (__builtin_mul_overflow(numel, st_dtype_bits(s.dtype), &bits) || bits % 8 != 0)
      spec_bug(where, "tensor " + qn + ": size overflows or is not a whole number of bytes");
    p.nbytes[i] = bits / 8;
  }
  std::unordered_set<std::string_view> mkeys;
  for (const auto& [k, v] : metadata) {
    if (!json::valid_utf8(nullptr, reinterpret_cast<const uint8_t*>(k.data()), k.size()) ||
        !json::valid_utf8(nullptr, reinterpret_cast<const uint8_t*>(v.data()), v.size()))
      spec_bug(where, "metadata is not valid UTF-8");
    if (!mkeys.insert(k).second) spec_bug(where, "metadata key \"" + k.substr(0, 200) + "\" listed twice");
  }

  // Greedy split (transformers shard_checkpoint).
  uint32_t shards = 1;
  uint64_t cur = 0, cur_count = 0;
  for (size_t i = 0; i < n; ++i) {
    uint64_t next;
    if (cur_count > 0 && (__builtin_add_overflow(cur, p.nbytes[i], &next) || next > max_shard_bytes)) {
      ++shards;
      cur = 0;
      cur_count = 0;
    }
    p.shard_of[i] = shards - 1;
    cur += p.nbytes[i];  // no overflow: a fresh shard starts at 0
    ++cur_count;
  }
  for (uint32_t s = 0; s < shards; ++s) {
    if (shards == 1) { p.filenames.push_back("model.safetensors"); break; }
    char name[64];
    std::snprintf(name, sizeof name, "model-%05u-of-%05u.safetensors", s + 1, shards);
    p.filenames.push_back(name);
  }

  // Headers. Offsets restart at 0 in each shard.
  std::string md;
  if (!metadata.empty()) {
    md = "\"__metadata__\":{";
    for (size_t i = 0; i < metadata.size(); ++i) {
      if (i) md += ',';
      json::append_quoted(&md, metadata[i].first);
      md += ':';
      json::append_quoted(&md, metadata[i].second);
    }
    md += '}';
  }
  p.headers.resize(shards);
  p.shard_bytes.resize(shards);
  size_t i = 0;
  uint64_t total_data = 0;
  for (uint32_t s = 0; s < shards; ++s) {
    std::string j = "{" + md;
    uint64_t off = 0;
    bool first = md.empty();
    for (; i < n && p.shard_of[i] == s; ++i) {
      if (!first) j += ',';
      first = false;
      json::append_quoted(&j, specs[i].name);
      j += ":{\"dtype\":\"";
      j += st_dtype_name(specs[i].dtype);
      j += "\",\"shape\":[";
      for (size_t d = 0; d < specs[i].shape.size(); ++d) {
        if (d) j += ',';
        j += std::to_string(specs[i].shape[d]);
      }
      uint64_t end;
      if (__builtin_add_overflow(off, p.nbytes[i], &end)) spec_bug(where, "shard size overflows");
      j += "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(end) + "]}";
      off = end;
    }
    j += '}';
    j.append((8 - j.size() % 8) % 8, ' ');  // tensor.rs pads to 8-byte alignment
    std::string h(8, '\0');
    for (int b = 0; b < 8; ++b) h[b] = char(uint8_t(uint64_t(j.size()) >> (8 * b)));
    h += j;
    if (__builtin_add_overflow(uint64_t(h.size()), off, &p.shard_bytes[s]) ||
        __builtin_add_overflow(total_data, off, &total_data))
      spec_bug(where, "output size overflows");
    p.headers[s] = std::move(h);
  }

  if (shards > 1) {
    std::vector<size_t> order(n);
    for (size_t k = 0; k < n; ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return specs[a].name < specs[b].name; });
    std::string& x = p.index_json;
    x = "{\n  \"metadata\": {\n    \"total_size\": " + std::to_string(total_data) + "\n  },\n  \"weight_map\": {";
    for (size_t k = 0; k < n; ++k) {
      x += k ? ",\n    " : "\n    ";
      json::append_quoted(&x, specs[order[k]].name);
      x += ": ";
      json::append_quoted(&x, p.filenames[p.shard_of[order[k]]]);
    }
    x += "\n  }\n}\n";
  }
  return p;
}

}  // namespace

ShardWriter::ShardWriter(const std::string& dir, std::vector<OutTensorSpec> specs, uint64_t max_shard_bytes,
                         StringPairs metadata)
    : dir_(dir), specs_(std::move(specs)) {
  Plan p = make_plan(specs_, max_shard_bytes, metadata, dir_);
  nbytes_ = std::move(p.nbytes);
  shard_of_ = std::move(p.shard_of);
  filenames_ = std::move(p.filenames);
  headers_ = std::move(p.headers);
  shard_bytes_ = std::move(p.shard_bytes);
  index_json_ = std::move(p.index_json);
}

ShardWriter::~ShardWriter() {
  if (fd_ >= 0) ::close(fd_);
}

uint64_t ShardWriter::planned_bytes(const std::vector<OutTensorSpec>& specs, uint64_t max_shard_bytes,
                                    const StringPairs& metadata) {
  const Plan p = make_plan(specs, max_shard_bytes, metadata, "output");
  uint64_t total = p.index_json.size();
  for (const uint64_t b : p.shard_bytes)
    if (__builtin_add_overflow(total, b, &total)) throw MergeError(ErrorCode::INTERNAL, "output: size overflows");
  return total;
}

void ShardWriter::check_usable(const char* op) const {
  if (failed_)
    throw MergeError(ErrorCode::INTERNAL, dir_ + ": ShardWriter::" + op + " called after a write error");
  if (finished_) throw MergeError(ErrorCode::INTERNAL, dir_ + ": ShardWriter::" + op + " called after finish()");
}

void ShardWriter::write_out(const uint8_t* p, uint64_t n) {
  write_all(fd_, p, n, join_path(dir_, filenames_[open_shard_]));
  fd_written_ += n;
#ifdef __linux__
  if (fd_written_ - wb_started_ >= kWritebackBytes) {
    // Asynchronous and advisory: errors surface at the fsync in close_shard().
    (void)::sync_file_range(fd_, off64_t(wb_started_), off64_t(fd_written_ - wb_started_), SYNC_FILE_RANGE_WRITE);
    wb_started_ = fd_written_;
  }
#endif
}

void ShardWriter::hash_and_write(const uint8_t* p, uint64_t n) {
  if (n < kParallelHashMin) {
    sha_.update(p, n);
    write_out(p, n);
    return;
  }
  if (!hasher_) hasher_ = std::make_unique<ParallelHasher>();
  hasher_->start(&sha_, p, n);
  try {
    write_out(p, n);
  } catch (...) {
    hasher_->wait();  // the piece must outlive the hashing
    throw;
  }
  hasher_->wait();
}

void ShardWriter::flush_buffer() {
  if (buf_len_ == 0) return;
  hash_and_write(buf_.data(), buf_len_);
  buf_len_ = 0;
}

void ShardWriter::emit(const void* data, uint64_t n) {
  // Hashed as written (in write order): no second pass over the file.
  const uint8_t* p = static_cast<const uint8_t*>(data);
  shard_written_ += n;
  if (buf_.empty()) buf_.resize(kBufBytes);
  if (n >= kBufBytes) {  // big pieces skip the copy
    flush_buffer();
    hash_and_write(p, n);
    return;
  }
  while (n > 0) {
    const uint64_t take = std::min<uint64_t>(n, kBufBytes - buf_len_);
    std::memcpy(buf_.data() + buf_len_, p, take);
    buf_len_ += take;
    p += take;
    n -= take;
    if (buf_len_ == kBufBytes) flush_buffer();
  }
}

void ShardWriter::open_shard(uint32_t s) {
  const std::string path = join_path(dir_, filenames_[s]);
  int fd;
  do { fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644); } while (fd < 0 && errno == EINTR);
  if (fd < 0) io_fail(path, "creating the file", errno);
  fd_ = fd;
  open_shard_ = s;
  shard_written_ = 0;
  fd_written_ = 0;
  wb_started_ = 0;
  buf_len_ = 0;
  sha_.init();
  emit(headers_[s].data(), headers_[s].size());
}

void ShardWriter::close_shard() {
  const std::string path = join_path(dir_, filenames_[open_shard_]);
  flush_buffer();
  if (shard_written_ != shard_bytes_[open_shard_])
    throw MergeError(ErrorCode::INTERNAL, path + ": wrote " + std::to_string(shard_written_) + " bytes, planned " +
                                              std::to_string(shard_bytes_[open_shard_]));
  fsync_fd(fd_, path);
  const int fd = fd_;
  fd_ = -1;
  close_fd(fd, path);
  done_.push_back(ShardFile{filenames_[open_shard_], shard_written_, sha_.final_hex()});
}

void ShardWriter::write_tensor(const void* bytes, uint64_t nbytes) {
  check_usable("write_tensor");
  if (cur_ >= specs_.size())
    throw MergeError(ErrorCode::INTERNAL, dir_ + ": write_tensor called after all " + std::to_string(specs_.size()) +
                                              " tensors were written");
  const std::string& name = specs_[cur_].name;
  if (cur_written_ != 0)
    throw MergeError(ErrorCode::INTERNAL, dir_ + ": write_tensor called while tensor \"" + name +
                                              "\" is partly written with write_tensor_part");
  if (nbytes != nbytes_[cur_])
    throw MergeError(ErrorCode::INTERNAL, dir_ + ": tensor \"" + name + "\" got " + std::to_string(nbytes) +
                                              " bytes, its spec (" + st_dtype_name(specs_[cur_].dtype) + ", " +
                                              std::to_string(specs_[cur_].shape.size()) + "-D) needs " +
                                              std::to_string(nbytes_[cur_]));
  write_tensor_part(bytes, nbytes);
}

void ShardWriter::write_tensor_part(const void* bytes, uint64_t nbytes) {
  check_usable("write_tensor_part");
  if (cur_ >= specs_.size())
    throw MergeError(ErrorCode::INTERNAL, dir_ + ": write_tensor_part called after all " +
                                              std::to_string(specs_.size()) + " tensors were written");
  const uint64_t remaining = nbytes_[cur_] - cur_written_;
  if (nbytes > remaining)
    throw MergeError(ErrorCode::INTERNAL, dir_ + ": tensor \"" + specs_[cur_].name + "\" got " +
                                              std::to_string(cur_written_ + nbytes) + " bytes, its spec needs " +
                                              std::to_string(nbytes_[cur_]));
  if (nbytes > 0 && bytes == nullptr)
    throw MergeError(ErrorCode::INTERNAL, dir_ + ": write_tensor_part with a null buffer");
  try {
    if (fd_ < 0) open_shard(shard_of_[cur_]);
    if (nbytes) emit(bytes, nbytes);
    cur_written_ += nbytes;
    if (cur_written_ == nbytes_[cur_]) {
      ++cur_;
      cur_written_ = 0;
      if (cur_ == specs_.size() || shard_of_[cur_] != shard_of_[cur_ - 1]) close_shard();
    }
  } catch (...) {
    failed_ = true;
    throw;
  }
}

std::vector<ShardFile> ShardWriter::finish() {
  check_usable("finish");
  if (cur_ < specs_.size())
    throw MergeError(ErrorCode::INTERNAL, dir_ + ": finish() called after " + std::to_string(cur_) + " of " +
                                              std::to_string(specs_.size()) + " tensors (next: \"" +
                                              specs_[cur_].name + "\")");
  try {
    if (specs_.empty()) {  // a header-only model.safetensors
      open_shard(0);
      close_shard();
    }
    if (!index_json_.empty()) {
      const std::string path = join_path(dir_, "model.safetensors.index.json");
      int fd;
      do { fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644); } while (fd < 0 && errno == EINTR);
      if (fd < 0) io_fail(path, "creating the file", errno);
      try {
        write_all(fd, reinterpret_cast<const uint8_t*>(index_json_.data()), index_json_.size(), path);
        fsync_fd(fd, path);
      } catch (...) {
        ::close(fd);
        throw;
      }
      close_fd(fd, path);
    }
    fsync_dir(dir_);  // make the new directory entries durable
  } catch (...) {
    failed_ = true;
    throw;
  }
  finished_ = true;
  return done_;
}

void check_free_space(const std::string& dir, uint64_t needed_bytes) {
  struct statvfs st;
  int r;
  do { r = ::statvfs(dir.c_str(), &st); } while (r != 0 && errno == EINTR);
  if (r != 0) io_fail(dir, "checking free space (statvfs)", errno);
  uint64_t avail;
  if (__builtin_mul_overflow(uint64_t(st.f_bavail), uint64_t(st.f_frsize), &avail)) avail = UINT64_MAX;
  if (avail < needed_bytes)
    throw MergeError(ErrorCode::OUT_NO_SPACE, "not enough free space: need " + gb(needed_bytes) + ", " + gb(avail) +
                                                  " free at " + dir + ". " + kFixSpace);
}

}  // namespace ms
