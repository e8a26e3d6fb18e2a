#include "alerthub/common/uuid.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

// The generator is process-wide and never goes back in time, so each test
// starts from a moment after every ID made so far, whatever the test order.
absl::Time FreshTime() {
  // An old `now` returns an ID carrying the generator's current millisecond.
  return UuidV7Time(NewUuidV7(absl::UnixEpoch())) + absl::Seconds(1);
}

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

TEST(NewUuidV7Test, CanonicalLowercaseForm) {
  std::string id = NewUuidV7(FreshTime());
  ASSERT_EQ(id.size(), 36u);
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      EXPECT_EQ(id[i], '-') << id;
    } else {
      EXPECT_TRUE(IsLowerHex(id[i])) << id << " at " << i;
    }
  }
  EXPECT_TRUE(IsUuid(id));
}

TEST(NewUuidV7Test, VersionAndVariantBits) {
  absl::Time now = FreshTime();
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewUuidV7(now + absl::Milliseconds(i % 7));
    EXPECT_EQ(id[14], '7') << id;  // version 7
    // RFC 9562 variant: the two top bits of byte 8 are 10.
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' ||
                id[19] == 'b')
        << id;
  }
}

TEST(NewUuidV7Test, EmbedsTheMillisecond) {
  absl::Time now = FreshTime() + absl::Microseconds(123'456);
  std::string id = NewUuidV7(now);
  EXPECT_EQ(UuidV7Time(id), absl::FromUnixMillis(absl::ToUnixMillis(now)));
  // The first 48 bits are the Unix milliseconds in hex.
  int64_t ms = absl::ToUnixMillis(now);
  char expected[13];
  snprintf(expected, sizeof(expected), "%012llx",
           static_cast<unsigned long long>(ms));
  EXPECT_EQ(id.substr(0, 8) + id.substr(9, 4), expected);
}

TEST(NewUuidV7Test, StrictlyIncreasingWithinOneMillisecond) {
  absl::Time now = FreshTime();
  std::string prev = NewUuidV7(now);
  for (int i = 0; i < 100'000; ++i) {
    std::string id = NewUuidV7(now);
    ASSERT_LT(prev, id) << "after " << i << " ids";
    prev = id;
  }
  // 100k IDs overflow the 12-bit counter: later ones borrow future
  // milliseconds rather than repeat or go back.
  EXPECT_GT(UuidV7Time(prev), now);
}

TEST(NewUuidV7Test, StrictlyIncreasingWhenTheClockGoesBackwards) {
  absl::Time now = FreshTime();
  std::string before = NewUuidV7(now);
  std::string after = NewUuidV7(now - absl::Hours(1));
  EXPECT_LT(before, after);
  // The previous timestamp is kept.
  EXPECT_EQ(UuidV7Time(after), UuidV7Time(before));
  // And the clock coming forward again moves on.
  std::string later = NewUuidV7(now + absl::Seconds(1));
  EXPECT_LT(after, later);
  EXPECT_EQ(UuidV7Time(later), now + absl::Seconds(1));
}

TEST(NewUuidV7Test, StrictlyIncreasingUnderAJitteryClock) {
  absl::Time now = FreshTime();
  absl::BitGen gen;
  std::string prev = NewUuidV7(now);
  for (int i = 0; i < 100'000; ++i) {
    // Steps between -3 ms and +3 ms, mostly within the same millisecond.
    now += absl::Microseconds(absl::Uniform<int>(gen, -3000, 3001) / 50);
    std::string id = NewUuidV7(now);
    ASSERT_LT(prev, id) << "after " << i << " ids";
    prev = id;
  }
}

TEST(NewUuidV7Test, UniqueAcrossThreads) {
  absl::Time now = FreshTime();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20'000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ids[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(NewUuidV7(now));
    });
  }
  for (std::thread& t : threads) t.join();
  absl::flat_hash_set<std::string> all;
  for (const auto& list : ids) {
    for (size_t i = 1; i < list.size(); ++i) {
      ASSERT_LT(list[i - 1], list[i]);  // increasing within each thread
    }
    all.insert(list.begin(), list.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(IsUuidTest, AcceptsCanonicalForms) {
  EXPECT_TRUE(IsUuid("01936f0e-7a3c-7b21-9d4e-0123456789ab"));
  EXPECT_TRUE(IsUuid("01936F0E-7A3C-7B21-9D4E-0123456789AB"));
  EXPECT_TRUE(IsUuid("550e8400-e29b-41d4-a716-446655440000"));  // v4
  EXPECT_TRUE(IsUuid("00000000-0000-0000-0000-000000000000"));
}

TEST(IsUuidTest, RejectsOtherForms) {
  for (const char* s : {
           "",
           "01936f0e-7a3c-7b21-9d4e-0123456789a",    // short
           "01936f0e-7a3c-7b21-9d4e-0123456789abc",  // long
           "01936f0e7a3c7b219d4e0123456789ab",       // no hyphens
           "01936f0e-7a3c-7b21-9d4e0-123456789ab",   // hyphen misplaced
           "01936f0g-7a3c-7b21-9d4e-0123456789ab",   // not hex
           "{01936f0e-7a3c-7b21-9d4e-0123456789a}",  // braces
           "01936f0e_7a3c_7b21_9d4e_0123456789ab",
           " 1936f0e-7a3c-7b21-9d4e-0123456789ab",
       }) {
    EXPECT_FALSE(IsUuid(s)) << s;
  }
}

TEST(UuidV7TimeTest, ReadsTheTimestamp) {
  EXPECT_EQ(UuidV7Time("01936f0e-7a3c-7b21-9d4e-0123456789ab"),
            absl::FromUnixMillis(0x01936f0e7a3c));
  EXPECT_EQ(UuidV7Time("01936F0E-7A3C-7B21-9D4E-0123456789AB"),
            absl::FromUnixMillis(0x01936f0e7a3c));
  EXPECT_EQ(UuidV7Time("00000000-0000-7000-8000-000000000000"),
            absl::UnixEpoch());
}

TEST(UuidV7TimeTest, InfinitePastWhenNotAUuidV7) {
  EXPECT_EQ(UuidV7Time("550e8400-e29b-41d4-a716-446655440000"),
            absl::InfinitePast());  // version 4
  EXPECT_EQ(UuidV7Time("not a uuid"), absl::InfinitePast());
  EXPECT_EQ(UuidV7Time(""), absl::InfinitePast());
}

}  // namespace
}  // namespace alerthub
