// The contract of alerthub::Client (alerthub/client.h) as one parameterized
// GoogleTest suite: every call, its results and each error code its comments
// promise. Embedded mode and remote mode (against a running router) must
// both pass it, so an application sees the same behaviour in either.
//
// A test instantiates it with one factory per mode:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Embedded, ClientContractTest,
//       ::testing::Values(ClientFactory{"embedded", [] {
//         ClientOptions o;
//         o.store = "sqlite://:memory:";
//         return Client::Open(o);
//       }}),
//       ClientFactoryName);
//
// and depends on //alerthub/testing:client_contract (alwayslink, so the cases
// register themselves). Every case opens a fresh Client. Its tenant may be
// shared with other cases (a remote factory can point every case at one
// router): each case uses notification types, titles and dedup keys no other
// case or run uses, and never assumes the tenant is empty. Content dedup must
// be on (the default window) and rate limits generous.
#ifndef ALERTHUB_TESTING_CLIENT_CONTRACT_H_
#define ALERTHUB_TESTING_CLIENT_CONTRACT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/client.h"
#include "gtest/gtest.h"

namespace alerthub::testing {

struct ClientFactory {
  // A valid test-name fragment ([A-Za-z0-9_]), e.g. "embedded" or "remote".
  std::string name;
  // Opens a new Client; see the tenant rules above.
  std::function<absl::StatusOr<std::unique_ptr<Client>>()> open;
};

// For INSTANTIATE_TEST_SUITE_P: names each instantiation after its factory.
std::string ClientFactoryName(const ::testing::TestParamInfo<ClientFactory>& info);

// A notification type (or dedup key) no other case of any run uses, built
// from `what`: "ct.<what>.<run>.<n>".
std::string UniqueName(absl::string_view what);

class ClientContractTest : public ::testing::TestWithParam<ClientFactory> {
 protected:
  void SetUp() override;

  std::unique_ptr<Client> client_;
};

}  // namespace alerthub::testing

#endif  // ALERTHUB_TESTING_CLIENT_CONTRACT_H_
