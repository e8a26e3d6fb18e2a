// The offline proto build works end to end: generated messages serialize,
// and a generated gRPC service answers a real call over loopback.
#include <memory>
#include <string>

#include "bazel/testdata/echo.grpc.pb.h"
#include "bazel/testdata/echo.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace {

class EchoService final : public alerthub::testdata::Echo::Service {
  grpc::Status Say(grpc::ServerContext*, const alerthub::testdata::EchoRequest* req,
                   alerthub::testdata::EchoReply* reply) override {
    reply->set_text("echo: " + req->text());
    reply->mutable_at()->set_seconds(1800000000);
    return grpc::Status::OK;
  }
};

TEST(ProtoBuildTest, MessagesRoundTrip) {
  alerthub::testdata::EchoReply reply;
  reply.set_text("hi");
  reply.mutable_at()->set_seconds(42);
  std::string wire;
  ASSERT_TRUE(reply.SerializeToString(&wire));
  alerthub::testdata::EchoReply back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_EQ(back.text(), "hi");
  EXPECT_EQ(back.at().seconds(), 42);
}

TEST(ProtoBuildTest, GrpcCallOverLoopback) {
  EchoService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_GT(port, 0);

  auto stub = alerthub::testdata::Echo::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  alerthub::testdata::EchoRequest req;
  req.set_text("ping");
  alerthub::testdata::EchoReply reply;
  grpc::Status status = stub->Say(&ctx, req, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.text(), "echo: ping");
  EXPECT_EQ(reply.at().seconds(), 1800000000);
  server->Shutdown();
}

}  // namespace
