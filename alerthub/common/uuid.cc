#include "alerthub/common/uuid.h"

#include <array>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"

namespace alerthub {
namespace {

// Shared monotonic state: the last timestamp and the 12-bit sequence used in
// rand_a (RFC 9562 §6.2 method 1), so IDs are ordered within a millisecond.
struct Generator {
  absl::Mutex mu;
  uint64_t last_ms ABSL_GUARDED_BY(mu) = 0;
  uint32_t seq ABSL_GUARDED_BY(mu) = 0;
  absl::BitGen bitgen ABSL_GUARDED_BY(mu);
};

Generator& Gen() {
  static Generator* gen = new Generator();
  return *gen;
}

constexpr char kHex[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string NewUuidV7(absl::Time now) {
  uint64_t ms = static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixMillis(now)));
  uint32_t seq;
  uint64_t rand_b;
  {
    Generator& g = Gen();
    absl::MutexLock lock(&g.mu);
    if (ms > g.last_ms) {
      g.last_ms = ms;
      // Start each millisecond in the lower half so the counter has room.
      g.seq = absl::Uniform<uint32_t>(g.bitgen, 0, 0x800);
    } else {
      ms = g.last_ms;
      if (++g.seq > 0xFFF) {  // counter exhausted: borrow the next millisecond
        g.last_ms = ++ms;
        g.seq = 0;
      }
    }
    seq = g.seq;
    rand_b = absl::Uniform<uint64_t>(g.bitgen);
  }
  std::array<uint8_t, 16> b;
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | ((seq >> 8) & 0x0F));
  b[7] = static_cast<uint8_t>(seq & 0xFF);
  for (int i = 8; i < 16; ++i) b[i] = static_cast<uint8_t>(rand_b >> (8 * (15 - i)));
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3F));  // RFC 9562 variant

  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0F]);
  }
  return out;
}

bool IsUuid(absl::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (HexValue(s[i]) < 0) {
      return false;
    }
  }
  return true;
}

absl::Time UuidV7Time(absl::string_view id) {
  if (!IsUuid(id) || id[14] != '7') return absl::InfinitePast();
  uint64_t ms = 0;
  for (size_t i = 0; i < 13; ++i) {
    if (id[i] == '-') continue;
    ms = (ms << 4) | static_cast<uint64_t>(HexValue(id[i]));
  }
  return absl::FromUnixMillis(static_cast<int64_t>(ms));
}

}  // namespace alerthub
