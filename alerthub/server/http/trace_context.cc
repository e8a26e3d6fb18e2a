#include "alerthub/server/http/trace_context.h"

#include <algorithm>
#include <cstring>

#include "absl/random/random.h"

namespace alerthub::http {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Lowercase hex only: the spec forbids uppercase in version 00.
int LowerHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

template <size_t N>
bool ParseHex(absl::string_view text, std::array<uint8_t, N>& out) {
  if (text.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    const int hi = LowerHexValue(text[2 * i]);
    const int lo = LowerHexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& bytes) {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

template <size_t N>
char* AppendHex(const std::array<uint8_t, N>& bytes, char* out) {
  for (uint8_t b : bytes) {
    *out++ = kHex[b >> 4];
    *out++ = kHex[b & 0xF];
  }
  return out;
}

// Fills `out` with random bytes, never all zeros. One generator per thread:
// ids are made on every request, so no lock on the hot path. absl::BitGen is
// seeded from the OS entropy source; ids need uniqueness, not secrecy.
template <size_t N>
void FillRandomNonZero(std::array<uint8_t, N>& out) {
  thread_local absl::BitGen gen;
  do {
    for (size_t i = 0; i < N; i += 8) {
      const uint64_t r = absl::Uniform<uint64_t>(gen);
      std::memcpy(out.data() + i, &r, std::min<size_t>(8, N - i));
    }
  } while (AllZero(out));
}

}  // namespace

TraceParent TraceParent::NewRoot() {
  TraceParent tp;
  FillRandomNonZero(tp.trace_id);
  FillRandomNonZero(tp.span_id);
  tp.flags = 0x01;
  return tp;
}

TraceParent TraceParent::NewChildSpan() const {
  TraceParent tp = *this;
  FillRandomNonZero(tp.span_id);
  return tp;
}

std::string TraceParent::ToString() const {
  std::string s(55, '-');
  char* p = s.data();
  *p++ = '0';
  *p++ = '0';
  ++p;
  p = AppendHex(trace_id, p);
  ++p;
  p = AppendHex(span_id, p);
  ++p;
  *p++ = kHex[flags >> 4];
  *p++ = kHex[flags & 0xF];
  return s;
}

std::optional<TraceParent> ParseTraceparent(absl::string_view header) {
  // 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
  if (header.size() != 55 || header[2] != '-' || header[35] != '-' ||
      header[52] != '-') {
    return std::nullopt;
  }
  if (header.substr(0, 2) != "00") return std::nullopt;
  TraceParent tp;
  std::array<uint8_t, 1> flags;
  if (!ParseHex(header.substr(3, 32), tp.trace_id) ||
      !ParseHex(header.substr(36, 16), tp.span_id) ||
      !ParseHex(header.substr(53, 2), flags)) {
    return std::nullopt;
  }
  if (AllZero(tp.trace_id) || AllZero(tp.span_id)) return std::nullopt;
  tp.flags = flags[0];
  return tp;
}

bool IsValidRequestId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

}  // namespace alerthub::http
