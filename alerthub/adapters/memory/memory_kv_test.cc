#include "alerthub/adapters/memory/memory_kv.h"

#include "alerthub/testing/kv_contract.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Memory, KvContractTest,
    ::testing::Values(KvFactory{
        "memory", [](SimulatedClock* clock) -> absl::StatusOr<std::unique_ptr<Kv>> {
          return NewMemoryKv({.clock = clock});
        }}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace alerthub
