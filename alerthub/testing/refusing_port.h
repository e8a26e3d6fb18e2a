// A loopback TCP port with nothing listening on it, for tests of how an
// adapter reports an unreachable server (connections to it are refused).
#ifndef ALERTHUB_TESTING_REFUSING_PORT_H_
#define ALERTHUB_TESTING_REFUSING_PORT_H_

namespace alerthub::testing {

// Binds an ephemeral port on 127.0.0.1, closes it and returns its number.
// Another process may take the port in the meantime; tests accept that tiny
// chance.
int RefusingPort();

}  // namespace alerthub::testing

#endif  // ALERTHUB_TESTING_REFUSING_PORT_H_
