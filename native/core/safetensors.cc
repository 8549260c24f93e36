// Strict safetensors header parser and pread-based tensor reader.
#include "safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "errors.h"
#include "json.h"

namespace ms {

namespace {

struct DtypeDesc { StDtype d; const char* name; uint64_t bits; };
constexpr DtypeDesc kDtypes[kStDtypeCount] = {
  {StDtype::BOOL, "BOOL", 8},       {StDtype::U8, "U8", 8},         {StDtype::I8, "I8", 8},
  {StDtype::F8_E5M2, "F8_E5M2", 8}, {StDtype::F8_E4M3, "F8_E4M3", 8}, {StDtype::I16, "I16", 16},
  {StDtype::U16, "U16", 16},        {StDtype::F16, "F16", 16},       {StDtype::BF16, "BF16", 16},
  {StDtype::I32, "I32", 32},        {StDtype::U32, "U32", 32},       {StDtype::F32, "F32", 32},
  {StDtype::F64, "F64", 64},        {StDtype::I64, "I64", 64},       {StDtype::U64, "U64", 64},
  {StDtype::F8_E8M0, "F8_E8M0", 8}, {StDtype::F8_E4M3FNUZ, "F8_E4M3FNUZ", 8},
  {StDtype::F8_E5M2FNUZ, "F8_E5M2FNUZ", 8}, {StDtype::F4, "F4", 4},
  {StDtype::F6_E2M3, "F6_E2M3", 6}, {StDtype::F6_E3M2, "F6_E3M2", 6}, {StDtype::C64, "C64", 64},
};

constexpr const char* kFixCorrupt =
    "The file is corrupt or not a safetensors file: re-download it, or re-export it with the safetensors library.";
constexpr const char* kFixIncomplete =
    "The file is incomplete (interrupted download or copy?): re-download it.";
constexpr const char* kFixChanged =
    "The file must not be modified while it is being read: wait for any download or copy to finish, "
    "re-download the file if it is incomplete, and retry.";

[[noreturn]] void fail(ErrorCode code, const std::string& file, const std::string& what, const char* fix) {
  std::string m = file + ": " + what;
  if (fix && *fix) { m += ". "; m += fix; }
  throw MergeError(code, m);
}

// Tensor names come from untrusted files: quote, escape and cap them.
std::string qname(std::string_view name) {
  constexpr size_t kMax = 200;
  bool cut = false;
  if (name.size() > kMax) {
    size_t n = kMax;
    while (n > 0 && (uint8_t(name[n]) & 0xC0) == 0x80) --n;  // keep whole UTF-8 chars
    name = name.substr(0, n);
    cut = true;
  }
  std::string out;
  json::append_quoted(&out, name);
  if (cut) out.insert(out.size() - 1, "...");
  return out;
}

std::string shape_str(const std::vector<uint64_t>& s) {
  std::string o = "[";
  for (size_t i = 0; i < s.size(); ++i) { if (i) o += ", "; o += std::to_string(s[i]); }
  return o + "]";
}

uint64_t le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void check_foreign_format(const uint8_t* buf, uint64_t buf_len, const std::string& label) {
  // A real header starts with '{' at byte 8. Requiring its absence keeps a
  // valid file whose length happens to begin 80 02.. (N = 0x280) or "PK\3\4"
  // from being misread as pickle/zip.
  if (buf_len > 8 && buf[8] == '{') return;
  if (buf_len >= 2 && buf[0] == 0x80 && buf[1] >= 2 && buf[1] <= 5)
    fail(ErrorCode::ST_PICKLE_FORMAT, label,
         "this is a Python pickle (PyTorch .bin checkpoint), not a safetensors file",
         "Convert it to safetensors first (e.g. load it with transformers and call "
         "save_pretrained(dir, safe_serialization=True)); only unpickle files from sources you trust.");
  if (buf_len >= 4 && std::memcmp(buf, "PK\x03\x04", 4) == 0)
    fail(ErrorCode::ST_ZIP_FORMAT, label,
         "this is a zip archive (PyTorch torch.save .pt/.bin checkpoint), not a safetensors file",
         "Convert it to safetensors first (e.g. load it with transformers and call "
         "save_pretrained(dir, safe_serialization=True)).");
}

// Fields of one tensor entry, numbers still relative to the data section.
struct RawTensor {
  TensorInfo info;
  uint64_t bytes;  // numel * bits / 8
};

RawTensor parse_tensor_entry(std::string_view name, const json::Value& v, const std::string& label) {
  const std::string tn = "tensor " + qname(name);
  if (!v.is_object())
    fail(ErrorCode::ST_TENSOR_INFO_INVALID, label, "the header entry of " + tn + " is not an object", kFixCorrupt);
  json::Value jd, js, jo;
  for (const auto m : v.members()) {
    if (m.key == "dtype") jd = m.value;
    else if (m.key == "shape") js = m.value;
    else if (m.key == "data_offsets") jo = m.value;
    else
      fail(ErrorCode::ST_TENSOR_INFO_INVALID, label,
           tn + " has an unknown field " + qname(m.key) + " (allowed: dtype, shape, data_offsets)", kFixCorrupt);
  }
  if (!jd.valid() || !js.valid() || !jo.valid())
    fail(ErrorCode::ST_TENSOR_INFO_INVALID, label,
         tn + " lacks the field \"" + (!jd.valid() ? "dtype" : !js.valid() ? "shape" : "data_offsets") + "\"",
         kFixCorrupt);
  if (!jd.is_string())
    fail(ErrorCode::ST_TENSOR_INFO_INVALID, label, "the dtype of " + tn + " is not a string", kFixCorrupt);
  if (!js.is_array())
    fail(ErrorCode::ST_TENSOR_INFO_INVALID, label, "the shape of " + tn + " is not an array", kFixCorrupt);
  if (!jo.is_array() || jo.size() != 2)
    fail(ErrorCode::ST_TENSOR_INFO_INVALID, label,
         "the data_offsets of " + tn + " is not an array of two integers [begin, end]", kFixCorrupt);

  RawTensor r;
  r.info.name = std::string(name);
  if (!st_dtype_from_name(&r.info.dtype, jd.str())) {
    std::string known;
    for (const auto& d : kDtypes) { if (!known.empty()) known += ", "; known += d.name; }
    fail(ErrorCode::ST_DTYPE_UNKNOWN, label,
         tn + " has the unknown dtype " + qname(jd.str()) + " (safetensors dtypes: " + known + ")",
         "The file was written by a non-standard or newer writer: re-export it with a supported dtype.");
  }
  r.info.shape.reserve(js.size());
  for (const json::Value d : js.elements()) {
    uint64_t x;
    if (!d.as_u64(&x))
      fail(ErrorCode::ST_TENSOR_INFO_INVALID, label,
           "the shape of " + tn + " must hold non-negative integers below 2^64 (found " +
               (d.is_number() ? std::string(d.str().substr(0, 40)) : std::string("a non-number")) + ")",
           kFixCorrupt);
    r.info.shape.push_back(x);
  }
  uint64_t off[2];
  int k = 0;
  for (const json::Value d : jo.elements()) {
    if (!d.as_u64(&off[k]))
      fail(ErrorCode::ST_TENSOR_INFO_INVALID, label,
           "the data_offsets of " + tn + " must be two non-negative integers below 2^64", kFixCorrupt);
    ++k;
  }
  r.info.data_begin = off[0];
  r.info.data_end = off[1];

  // Same order as tensor.rs: numel overflow (even if a later dim is 0), then bits.
  uint64_t numel = 1;
  for (const uint64_t d : r.info.shape)
    if (__builtin_mul_overflow(numel, d, &numel))
      fail(ErrorCode::ST_SHAPE_OVERFLOW, label,
           "the shape " + shape_str(r.info.shape) + " of " + tn + " has more than 2^64 elements", kFixCorrupt);
  r.info.numel = numel;
  uint64_t bits;
  if (__builtin_mul_overflow(numel, st_dtype_bits(r.info.dtype), &bits))
    fail(ErrorCode::ST_SHAPE_OVERFLOW, label,
         "the size of " + tn + " (" + st_dtype_name(r.info.dtype) + " " + shape_str(r.info.shape) +
             ") overflows 64 bits",
         kFixCorrupt);
  if (bits % 8 != 0)
    fail(ErrorCode::ST_TENSOR_SIZE_MISMATCH, label,
         tn + " (" + st_dtype_name(r.info.dtype) + " " + shape_str(r.info.shape) + ") holds " +
             std::to_string(bits) + " bits, not a whole number of bytes",
         kFixCorrupt);
  r.bytes = bits / 8;
  return r;
}

}  // namespace

const char* st_dtype_name(StDtype d) {
  const auto i = static_cast<unsigned>(d);
  return i < unsigned(kStDtypeCount) ? kDtypes[i].name : "?";
}

uint64_t st_dtype_bits(StDtype d) {
  const auto i = static_cast<unsigned>(d);
  return i < unsigned(kStDtypeCount) ? kDtypes[i].bits : 0;
}

bool st_dtype_from_name(StDtype* out, std::string_view s) {
  for (const auto& d : kDtypes)
    if (s == d.name) { *out = d.d; return true; }
  return false;
}

const TensorInfo* SafetensorsHeader::find(std::string_view name) const {
  if (by_name.size() == tensors.size()) {
    auto it = std::lower_bound(by_name.begin(), by_name.end(), name,
                               [&](uint32_t i, std::string_view n) { return tensors[i].name < n; });
    if (it != by_name.end() && tensors[*it].name == name) return &tensors[*it];
    return nullptr;
  }
  for (const auto& t : tensors)  // hand-built header without an index
    if (t.name == name) return &t;
  return nullptr;
}

SafetensorsHeader parse_safetensors_header(const uint8_t* buf, uint64_t buf_len, uint64_t file_size,
                                           const std::string& label) {
  if (buf_len > file_size)
    throw MergeError(ErrorCode::INTERNAL, label + ": buffer (" + std::to_string(buf_len) +
                                              " bytes) longer than the file (" + std::to_string(file_size) + ")");
  // Magic bytes first: a pickle's "length" would otherwise be reported as a
  // meaningless header-size error.
  check_foreign_format(buf, buf_len, label);
  if (file_size < 8)
    fail(ErrorCode::ST_FILE_TOO_SMALL, label,
         "the file is " + std::to_string(file_size) + " bytes; a safetensors file starts with an 8-byte header length",
         kFixIncomplete);
  if (buf_len < 8) throw MergeError(ErrorCode::INTERNAL, label + ": caller passed fewer than 8 header bytes");
  const uint64_t n = le64(buf);
  if (n > kStMaxHeaderBytes)
    fail(ErrorCode::ST_HEADER_TOO_LARGE, label,
         "the declared header length " + std::to_string(n) + " exceeds the limit of " +
             std::to_string(kStMaxHeaderBytes) + " bytes",
         kFixCorrupt);
  if (n > file_size - 8)
    fail(ErrorCode::ST_HEADER_LENGTH_INVALID, label,
         "the declared header length " + std::to_string(n) + " runs past the end of the file (" +
             std::to_string(file_size) + " bytes)",
         "The file is truncated or corrupt: re-download it.");
  if (buf_len < 8 + n)
    throw MergeError(ErrorCode::INTERNAL, label + ": caller passed " + std::to_string(buf_len) +
                                              " bytes, the header needs " + std::to_string(8 + n));
  const uint8_t* hdr = buf + 8;
  uint64_t bad = 0;
  if (!json::valid_utf8(&bad, hdr, n))
    fail(ErrorCode::ST_HEADER_NOT_UTF8, label,
         "the header is not valid UTF-8 (bad byte at header offset " + std::to_string(bad) + ")", kFixCorrupt);
  if (n == 0 || hdr[0] != '{')
    fail(ErrorCode::ST_HEADER_START_INVALID, label,
         n == 0 ? std::string("the header is empty (a safetensors header is a JSON object starting with '{')")
                : "the header does not start with '{'",
         kFixCorrupt);
  const json::ParseResult pr = json::parse(reinterpret_cast<const char*>(hdr), n);
  if (!pr.ok) {
    const std::string where = " at header offset " + std::to_string(pr.offset);
    if (pr.kind == json::ErrorKind::DuplicateKey)
      fail(ErrorCode::ST_HEADER_DUPLICATE_KEY, label, "the header has a " + pr.message + where,
           "Each tensor name may appear only once; the file is corrupt or was written by a buggy tool: re-export it.");
    fail(ErrorCode::ST_HEADER_JSON_INVALID, label, "the header is not valid JSON: " + pr.message + where, kFixCorrupt);
  }
  const json::Value root = pr.doc.root();
  if (!root.is_object())  // unreachable after the '{' check; kept for safety
    fail(ErrorCode::ST_HEADER_JSON_INVALID, label, "the header is not a JSON object", kFixCorrupt);

  SafetensorsHeader h;
  h.header_len = n;
  h.data_start = 8 + n;
  h.file_size = file_size;
  // No reserve(root.size()): members are counted before any is validated, so
  // a hostile header of millions of tiny members ({"a":0,"b":0,...}) would
  // allocate ~96 bytes per member up front (648 MB for a 60 MB header).
  // Only valid entries (>= 46 header bytes each) are appended.
  std::vector<RawTensor> raw;
  for (const auto m : root.members()) {
    if (m.key == "__metadata__") {
      if (m.value.is_null()) continue;  // serde's Option: null means absent
      if (!m.value.is_object())
        fail(ErrorCode::ST_METADATA_INVALID, label, "__metadata__ is not an object of strings", kFixCorrupt);
      for (const auto mm : m.value.members()) {
        if (!mm.value.is_string())
          fail(ErrorCode::ST_METADATA_INVALID, label,
               "__metadata__ value of " + qname(mm.key) + " is not a string (safetensors metadata maps strings to strings)",
               kFixCorrupt);
        h.metadata.emplace_back(std::string(mm.key), std::string(mm.value.str()));
      }
      continue;
    }
    raw.push_back(parse_tensor_entry(m.key, m.value, label));
  }

  // tensor.rs sorts by (begin, end) and walks the data section once.
  std::stable_sort(raw.begin(), raw.end(), [](const RawTensor& a, const RawTensor& b) {
    return a.info.data_begin != b.info.data_begin ? a.info.data_begin < b.info.data_begin
                                                  : a.info.data_end < b.info.data_end;
  });
  uint64_t pos = 0;
  const TensorInfo* prev = nullptr;
  for (const RawTensor& r : raw) {
    const TensorInfo& t = r.info;
    const std::string tn = "tensor " + qname(t.name);
    const std::string offs = " data_offsets [" + std::to_string(t.data_begin) + ", " + std::to_string(t.data_end) + "]";
    if (t.data_end < t.data_begin)
      fail(ErrorCode::ST_OFFSETS_INVALID, label, tn + " has" + offs + " with end before begin", kFixCorrupt);
    if (t.data_begin > pos)
      fail(ErrorCode::ST_OFFSETS_INVALID, label,
           tn + " has" + offs + ", leaving a gap of " + std::to_string(t.data_begin - pos) + " bytes after " +
               (prev ? "tensor " + qname(prev->name) : std::string("the start of the data section")),
           kFixCorrupt);
    if (t.data_begin < pos)
      fail(ErrorCode::ST_OFFSETS_INVALID, label,
           tn + " has" + offs + ", overlapping tensor " + qname(prev->name) + " (which ends at " +
               std::to_string(pos) + ")",
           kFixCorrupt);
    if (t.data_end - t.data_begin != r.bytes)
      fail(ErrorCode::ST_TENSOR_SIZE_MISMATCH, label,
           tn + " (" + st_dtype_name(t.dtype) + " " + shape_str(t.shape) + ") needs " + std::to_string(r.bytes) +
               " bytes but its" + offs + " span " + std::to_string(t.data_end - t.data_begin),
           kFixCorrupt);
    pos = t.data_end;
    prev = &t;
  }
  const uint64_t data_len = file_size - h.data_start;
  if (pos > data_len)
    fail(ErrorCode::ST_DATA_TRUNCATED, label,
         "the tensors need " + std::to_string(pos) + " bytes of data but the file holds only " +
             std::to_string(data_len) + " (" + std::to_string(pos - data_len) + " bytes missing)",
         kFixIncomplete);
  if (pos < data_len)
    fail(ErrorCode::ST_TRAILING_BYTES, label,
         std::to_string(data_len - pos) + " unexpected bytes follow the last tensor (data section is " +
             std::to_string(data_len) + " bytes, tensors cover " + std::to_string(pos) + ")",
         kFixCorrupt);

  h.tensors.reserve(raw.size());
  for (RawTensor& r : raw) {
    r.info.data_begin += h.data_start;  // <= file_size: cannot overflow
    r.info.data_end += h.data_start;
    h.tensors.push_back(std::move(r.info));
  }
  if (h.tensors.size() > UINT32_MAX)
    throw MergeError(ErrorCode::INTERNAL, label + ": more than 2^32 tensors");
  h.by_name.resize(h.tensors.size());
  for (uint32_t i = 0; i < h.by_name.size(); ++i) h.by_name[i] = i;
  std::sort(h.by_name.begin(), h.by_name.end(),
            [&](uint32_t a, uint32_t b) { return h.tensors[a].name < h.tensors[b].name; });
  return h;
}

// ---------------------------------------------------------------- FileReader

FileReader::FileReader(const std::string& path, const PathPolicy* policy) : path_(path) {
  int fd;
  // O_NONBLOCK so that a FIFO passed by mistake cannot hang open(); it is
  // rejected below and the flag is cleared for regular files.
  do { fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK); } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int e = errno;
    fail(ErrorCode::ST_IO, path, std::string("cannot open the file: ") + std::strerror(e),
         "Check that the file exists and is readable.");
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    fail(ErrorCode::ST_IO, path, std::string("cannot stat the file: ") + std::strerror(e),
         "Check that the file is readable.");
  }
  if (policy) {
    try {
      check_fd_inside(*policy, fd, path);  // on the descriptor: what is read is what was checked
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(ErrorCode::ST_IO, path, S_ISDIR(st.st_mode) ? "is a directory, not a file" : "is not a regular file",
         "Pass the path of a .safetensors file or of a model directory.");
  }
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl >= 0) ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  fd_ = fd;
  size_ = uint64_t(st.st_size);
}

FileReader::~FileReader() {
  if (fd_ >= 0) ::close(fd_);
}

FileReader::FileReader(FileReader&& o) noexcept : path_(std::move(o.path_)), fd_(o.fd_), size_(o.size_) {
  o.fd_ = -1;
}

FileReader& FileReader::operator=(FileReader&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(o.path_);
    fd_ = o.fd_;
    size_ = o.size_;
    o.fd_ = -1;
  }
  return *this;
}

void FileReader::pread_exact(void* dst, uint64_t offset, uint64_t len, std::string_view what) const {
  const std::string obj = what.empty() ? std::string() : " " + std::string(what);
  if (fd_ < 0) throw MergeError(ErrorCode::INTERNAL, path_ + ": read from a closed FileReader");
  if (offset > uint64_t(INT64_MAX) || len > uint64_t(INT64_MAX) - offset)
    throw MergeError(ErrorCode::INTERNAL, path_ + ": read range out of bounds" + obj);
  uint8_t* p = static_cast<uint8_t*>(dst);
  uint64_t done = 0;
  while (done < len) {
    // Linux transfers at most ~2 GiB per call; ask for 1 GiB at a time.
    const size_t chunk = size_t(std::min<uint64_t>(len - done, uint64_t(1) << 30));
    const ssize_t r = ::pread(fd_, p + done, chunk, off_t(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      fail(ErrorCode::ST_IO, path_, "read error" + obj + ": " + std::strerror(e),
           "Check the disk and that the file is readable, then retry.");
    }
    if (r == 0)
      fail(ErrorCode::ST_IO, path_,
           "file changed or was truncated while reading" + obj + " (end of file at byte " +
               std::to_string(offset + done) + ", expected " + std::to_string(offset + len) + ")",
           kFixChanged);
    done += uint64_t(r);
  }
}

void FileReader::read_range(void* dst, uint64_t begin, uint64_t end) const {
  if (end < begin)
    throw MergeError(ErrorCode::INTERNAL, path_ + ": read_range with end " + std::to_string(end) +
                                              " before begin " + std::to_string(begin));
  pread_exact(dst, begin, end - begin, "byte range [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
}

void FileReader::read_tensor(void* dst, const TensorInfo& info) const {
  read_tensor_part(dst, info, 0, info.data_end >= info.data_begin ? info.nbytes() : 0);
}

void FileReader::read_tensor_part(void* dst, const TensorInfo& info, uint64_t offset, uint64_t len) const {
  if (info.data_end < info.data_begin)
    throw MergeError(ErrorCode::INTERNAL, path_ + ": tensor " + qname(info.name) + " has end before begin");
  if (offset > info.nbytes() || len > info.nbytes() - offset)
    throw MergeError(ErrorCode::INTERNAL, path_ + ": read of bytes [" + std::to_string(offset) + ", +" +
                                              std::to_string(len) + ") outside tensor " + qname(info.name));
  if (info.data_end > size_)  // header read from an older, longer version of the file
    fail(ErrorCode::ST_IO, path_,
         "file changed or was truncated: tensor " + qname(info.name) + " ends at byte " +
             std::to_string(info.data_end) + " but the file has " + std::to_string(size_) + " bytes",
         kFixChanged);
  pread_exact(dst, info.data_begin + offset, len, "tensor " + qname(info.name));
}

SafetensorsHeader read_safetensors_header(const FileReader& f) {
  const uint64_t size = f.size();
  uint8_t head[9];
  const uint64_t k = std::min<uint64_t>(size, sizeof head);
  f.pread_exact(head, 0, k, "the header length");
  if (size >= 8) {
    const uint64_t n = le64(head);
    // Validate N before allocating anything based on it.
    if (n <= kStMaxHeaderBytes && n <= size - 8) {
      std::vector<uint8_t> buf(8 + n);
      std::memcpy(buf.data(), head, std::min<uint64_t>(k, buf.size()));
      if (buf.size() > k) f.pread_exact(buf.data() + k, k, buf.size() - k, "the header");
      return parse_safetensors_header(buf.data(), buf.size(), size, f.path());
    }
  }
  parse_safetensors_header(head, k, size, f.path());  // throws: magic, too small or bad length
  throw MergeError(ErrorCode::INTERNAL, f.path() + ": header accepted with an invalid length");
}

SafetensorsHeader read_safetensors_header(const std::string& path) {
  FileReader f(path);
  return read_safetensors_header(f);
}

void read_tensor_bytes(void* dst, const std::string& path, const TensorInfo& info) {
  FileReader f(path);
  f.read_tensor(dst, info);
}

}  // namespace ms
