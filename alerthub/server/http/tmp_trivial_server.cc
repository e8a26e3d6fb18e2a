#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include "alerthub/server/http/http_server.h"
using namespace alerthub::http;
int main(int argc, char** argv) {
  Router router;
  router.Add("GET", "/health/live", [](Request, ResponseWriter w) {
    std::move(w).Send(Response{.body = R"({"status":"ok"})"});
  }, {.blocking = false, .name = "live"});
  router.Add("GET", "/blocking", [](Request, ResponseWriter w) {
    std::move(w).Send(Response{.body = R"({"status":"ok"})"});
  }, {.blocking = true, .name = "blocking"});
  HttpServerOptions o;
  o.port = atoi(argv[1]);
  o.io_threads = argc > 2 ? atoi(argv[2]) : 0;
  if (argc > 3 && argv[3][0] == '0') o.access_log = nullptr;
  else o.access_log = [](absl::string_view) {};
  auto s = HttpServer::Start(std::move(router), o);
  if (!s.ok()) { fprintf(stderr, "%s\n", s.status().ToString().c_str()); return 1; }
  pause();
}
